import type { Command } from 'commander';
import { Option } from 'commander';
import { readFileSync } from 'node:fs';
import { fail } from '../cli-shared.js';
import { ExitCode } from '../exit-codes.js';

/** The Web UI origins allowed by default: where `mooring server` serves it (MOORING_UI_URL if set). */
function defaultUiOrigins(): string[] {
  const set = process.env.MOORING_UI_URL;
  return set ? [set] : ['http://127.0.0.1:8233', 'http://localhost:8233'];
}

function readFileOrFail(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    return fail(`${flag} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, ExitCode.invalidInput);
  }
}

export function registerCodecServer(program: Command): void {
  program.command('codec-server')
    .description('Serve the payload codec to the Temporal Web UI and CLI (remote codec endpoint), with the keys of MOORING_CODEC_KEYS')
    .option('--ip <address>', 'address to listen on; other than loopback needs a token', '127.0.0.1')
    .option('--port <port>', 'port', '8888')
    .addOption(new Option('--ui-origin <url...>', 'Web UI origin(s) allowed by CORS (default: MOORING_UI_URL, else http://127.0.0.1:8233 and http://localhost:8233)'))
    .option('--token-file <file>', 'require `Authorization: Bearer <token>` with the token in this file (or set MOORING_CODEC_SERVER_TOKEN)')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'key of --tls-cert (PEM)')
    .addHelpText('after', `
Examples:
  MOORING_CODEC_KEYS="2026-12=file:/etc/mooring/codec.key" mooring codec-server
  mooring codec-server --ip 0.0.0.0 --token-file /etc/mooring/codec.token --tls-cert c.pem --tls-key k.pem

Then in the Web UI: Settings (the codec icon) > Codec Server endpoint http://127.0.0.1:8888, or start the
dev server with --ui-codec-endpoint. For the temporal CLI: --codec-endpoint http://127.0.0.1:8888
(and --codec-auth "Bearer TOKEN" with a token). See README, "Security".`)
    .action(async (o: { ip: string; port: string; uiOrigin?: string[]; tokenFile?: string; tlsCert?: string; tlsKey?: string }) => {
      if (!!o.tlsCert !== !!o.tlsKey) fail('--tls-cert and --tls-key go together', ExitCode.invalidInput);
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${o.port}: use a port number 0-65535`, ExitCode.invalidInput);
      const token = o.tokenFile ? readFileOrFail(o.tokenFile, '--token-file').toString('utf8').trim() : process.env.MOORING_CODEC_SERVER_TOKEN?.trim();
      if (o.tokenFile && !token) fail(`--token-file ${o.tokenFile}: is empty; write the token into it`, ExitCode.invalidInput);
      const [{ codecFromEnv, CODEC_KEYS_ENV }, { startCodecServer }] = await Promise.all([import('../../workers/codec/config.js'), import('../../workers/codec/server.js')]);
      const codec = await codecFromEnv('the codec server');
      if (!codec) fail(`${CODEC_KEYS_ENV} is not set: the codec server needs the same keys as the worker (see README, "Security")`, ExitCode.invalidInput);
      const server = await startCodecServer({
        codec, host: o.ip, port, uiOrigins: o.uiOrigin ?? defaultUiOrigins(),
        ...(token ? { token } : {}),
        ...(o.tlsCert && o.tlsKey ? { tls: { cert: readFileOrFail(o.tlsCert, '--tls-cert'), key: readFileOrFail(o.tlsKey, '--tls-key') } } : {}),
        log: (line) => process.stderr.write(`codec-server: ${line}\n`),
      });
      process.stdout.write(`Codec server on ${server.url} (encrypts with key id ${codec.current}; decrypts ${codec.keyIds.join(', ')}; ${token ? 'bearer token required' : 'no token'})\nCtrl-C to stop.\n`);
      await new Promise<void>((resolve) => {
        const stop = () => { void server.close().then(resolve); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
