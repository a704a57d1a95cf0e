// Debian's PostgreSQL as the production stack's database, run as processes of the test: a new
// cluster made by initdb in a scratch directory, owned by and running as the unprivileged
// `postgres` user (PostgreSQL refuses to run as root), listening on one loopback address, its
// socket in the scratch directory. The package's own cluster and service are never touched.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../helpers/scratch.js';

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin directory (Debian installs one per major). */
export function postgresBinDir(): string {
  const majors = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = majors.map((m) => join(PG_ROOT, m, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (!bin) throw new Error(`no PostgreSQL server under ${PG_ROOT}: run npm run setup (it installs Debian's postgresql)`);
  return bin;
}

export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `postgres --version`'s number, e.g. 15.18. */
  version: string;
  stop(): void;
}

export function startPostgres(host: string, port: number): TestPostgres {
  const bin = postgresBinDir();
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  const dir = scratchDir('mooring-postgres-');
  chownSync(dir, uid, gid);
  // A password per run, only in files readable by postgres and in the child processes' environment.
  const password = `t-${process.pid}-${Date.now()}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  const asPostgres = (cmd: string, args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const data = join(dir, 'data');
  // scram-sha-256 over TCP as in production (the temporal user must log in with its password).
  asPostgres('initdb', ['-D', data, '-U', 'temporal', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-instructions']);
  asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', '-o', `-h ${host} -p ${port} -k ${dir}`, 'start']);
  const version = /(\d+\.\d+)/.exec(asPostgres('postgres', ['--version']))![1]!;
  return {
    host, port, user: 'temporal', password, version,
    stop() {
      if (!existsSync(join(data, 'postmaster.pid'))) return;
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
      } catch (err) {
        // Still running after pg_ctl gave up: its own pid file names the postmaster.
        const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        if (pid > 0) process.kill(pid, 'SIGKILL');
        throw err;
      }
    },
  };
}
