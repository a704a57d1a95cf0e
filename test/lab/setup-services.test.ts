// Set-up's package step (scripts/apt-install-no-start.sh) leaves the machine's services alone: an
// etcd that runs before it (a production member, say) still runs after it, and the services a
// package would start are not started, or, under an administrator's own policy-rc.d that lets
// them start, exactly those are stopped again. A real dpkg install of a small package built
// here (a SIMULATED service whose postinst starts it through invoke-rc.d, as Debian's do), inside
// a PID and mount namespace of its own: nothing outside it can be signalled, and /usr/sbin there
// is a copy in which policy-rc.d can be absent or permissive without touching the machine's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../client/tools.js';
import { scratchDir } from '../helpers/scratch.js';
import { freeLoopbackPorts } from '../helpers/ports.js';

const PKG = 'mooring-setup-test-svc';
const SCRIPT = join(PROJECT_ROOT, 'scripts', 'apt-install-no-start.sh');

/** A package with an init script and a postinst that starts it, as dh_installinit writes. */
function buildPackage(dir: string): string {
  const root = join(dir, 'pkg');
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'etc', 'init.d'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN', 'control'), `Package: ${PKG}\nVersion: 1.0\nArchitecture: all\nMaintainer: Mooring tests <tests@mooring.invalid>\nDescription: SIMULATED service for the set-up test\n`);
  writeFileSync(join(root, 'DEBIAN', 'postinst'), `#!/bin/sh\nset -e\nif [ "$1" = configure ]; then invoke-rc.d ${PKG} start || exit 1; fi\n`);
  writeFileSync(join(root, 'DEBIAN', 'prerm'), `#!/bin/sh\n[ -f /run/${PKG}.pid ] && kill "$(cat /run/${PKG}.pid)" 2>/dev/null; rm -f /run/${PKG}.pid; exit 0\n`);
  writeFileSync(join(root, 'etc', 'init.d', PKG), [
    '#!/bin/sh',
    '### BEGIN INIT INFO', `# Provides: ${PKG}`, '# Required-Start:', '# Required-Stop:', '# Default-Start: 2 3 4 5', '# Default-Stop:', '### END INIT INFO',
    `case "$1" in start) setsid sleep 600 >/dev/null 2>&1 </dev/null & echo $! > /run/${PKG}.pid ;; stop) kill "$(cat /run/${PKG}.pid)"; rm -f /run/${PKG}.pid ;; esac`,
    '',
  ].join('\n'));
  for (const f of ['DEBIAN/postinst', 'DEBIAN/prerm', `etc/init.d/${PKG}`]) chmodSync(join(root, f), 0o755);
  const deb = join(dir, `${PKG}.deb`);
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, deb], { stdio: 'ignore' });
  return deb;
}

/**
 * Runs `steps` (bash) in new PID and mount namespaces with a private copy of /usr/sbin, after
 * starting a real etcd on loopback and recording its pid; prints KEY=VALUE lines the test reads.
 */
function scenario(dir: string, policy: 'absent' | 'permissive', steps: string, ports: [number, number]): Record<string, string> {
  const [client, peer] = ports;
  const script = `
set -u
cp -a /usr/sbin ${dir}/sbin && rm -f ${dir}/sbin/policy-rc.d
${policy === 'permissive' ? `printf '#!/bin/sh\\n# the administrators own policy\\nexit 0\\n' > ${dir}/sbin/policy-rc.d && chmod 755 ${dir}/sbin/policy-rc.d` : ''}
mount --bind ${dir}/sbin /usr/sbin
/usr/bin/etcd --name pre --data-dir ${dir}/etcd-data --listen-client-urls http://127.0.0.1:${client} --advertise-client-urls http://127.0.0.1:${client} \\
  --listen-peer-urls http://127.0.0.1:${peer} --initial-advertise-peer-urls http://127.0.0.1:${peer} --initial-cluster pre=http://127.0.0.1:${peer} >${dir}/etcd.log 2>&1 &
etcd_pid=$!
for _ in $(seq 1 50); do ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:${client} endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
echo "etcd_before=$(cat /proc/$etcd_pid/comm 2>/dev/null)"
policy_before=$(cat /usr/sbin/policy-rc.d 2>/dev/null || echo none)
${steps}
echo "rc=$rc"
echo "etcd_after=$(cat /proc/$etcd_pid/comm 2>/dev/null || echo gone)"
ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:${client} endpoint health >/dev/null 2>&1 && echo etcd_healthy=yes || echo etcd_healthy=no
[ "$(cat /usr/sbin/policy-rc.d 2>/dev/null || echo none)" = "$policy_before" ] && echo policy_unchanged=yes || echo policy_unchanged=no
pid=$(cat /run/${PKG}.pid 2>/dev/null || true)
[ -n "$pid" ] && echo service_started=yes || echo service_started=no
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo service_running=yes || echo service_running=no
dpkg --purge ${PKG} >/dev/null 2>&1
kill "$etcd_pid" 2>/dev/null
`;
  const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--mount', '--propagation', 'private', '--', 'bash', '-c', script], { encoding: 'utf8', timeout: 180_000 });
  return Object.fromEntries(`${r.stdout}`.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
}

describe('set-up installs packages without touching the machine\'s services (real dpkg, real etcd)', () => {
  const dir = scratchDir('setup-svc-');
  let deb: string;
  let ports: [number, number];
  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('installs a package: run as root (CI and the dev container are)');
    deb = buildPackage(dir);
    ports = await freeLoopbackPorts(2) as [number, number];
  });
  after(() => {
    spawnSync('dpkg', ['--purge', PKG], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const install = `MOORING_SETUP_SERVICES=${PKG} bash ${SCRIPT} ${'$DEB'} >${'$LOG'} 2>&1; rc=$?`;
  const withDeb = (s: string, name: string) => s.replaceAll('$DEB', `'${deb}'`).replaceAll('$LOG', `'${join(dir, `${name}.log`)}'`);

  it('no policy-rc.d on the machine: the package\'s service is not started, the running etcd survives, the temporary policy is gone after', () => {
    rmSync(join(dir, 'sbin'), { recursive: true, force: true });
    rmSync(join(dir, 'etcd-data'), { recursive: true, force: true });
    const r = scenario(dir, 'absent', withDeb(install, 'absent'), ports);
    assert.equal(r.etcd_before, 'etcd', JSON.stringify(r));
    assert.equal(r.rc, '0', JSON.stringify(r));
    assert.equal(r.service_started, 'no', 'the postinst\'s start was refused by the policy');
    assert.equal(r.policy_unchanged, 'yes', 'no policy-rc.d before, none after');
    assert.equal(r.etcd_after, 'etcd', 'the etcd that ran before the install still runs');
    assert.equal(r.etcd_healthy, 'yes');
  });

  it('an administrator\'s permissive policy-rc.d: kept; the service the install started is stopped, and only it', () => {
    rmSync(join(dir, 'sbin'), { recursive: true, force: true });
    rmSync(join(dir, 'etcd-data'), { recursive: true, force: true });
    const r = scenario(dir, 'permissive', withDeb(install, 'permissive'), ports);
    assert.equal(r.rc, '0', JSON.stringify(r));
    assert.equal(r.policy_unchanged, 'yes', 'their policy-rc.d is left as it was');
    assert.equal(r.service_started, 'yes', 'their policy let the postinst start it');
    assert.equal(r.service_running, 'no', 'and the script stopped exactly that service');
    assert.equal(r.etcd_after, 'etcd');
    assert.equal(r.etcd_healthy, 'yes');
  });

  it('the check has teeth: a plain install where services may start leaves the package\'s service running', () => {
    // What made the old set-up stop daemons afterwards (by name, taking any etcd with them). Under
    // the same permissive policy as above, a plain install starts the service and nothing stops
    // it, so the "only that service is stopped" check above can fail. (With no policy at all this
    // machine's invoke-rc.d starts nothing by itself, init being absent, so the first case shows the
    // guard's clean-up, not that the guard alone held the start back.)
    rmSync(join(dir, 'sbin'), { recursive: true, force: true });
    rmSync(join(dir, 'etcd-data'), { recursive: true, force: true });
    const plain = `DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $DEB >$LOG 2>&1; rc=$?`;
    const r = scenario(dir, 'permissive', withDeb(plain, 'plain'), ports);
    assert.equal(r.etcd_before, 'etcd', JSON.stringify(r));
    assert.equal(r.service_started, 'yes', JSON.stringify(r));
    assert.equal(r.service_running, 'yes', 'nothing stopped it');
  });
});
