// The SIMULATED apt-get/apt-mark (lab/packages/apt.ts) and the helm package, run as a bare lab
// node runs them: the shims in the node's own /usr/local/sbin, inside its filesystem view (a
// mount namespace with the node's /etc/apt and /usr/local/sbin bound over the machine's; needs
// root). The Helm build cache is a scratch one holding a STAND-IN helm script, so the test knows
// what the installed link must run; the real build is installed the same way in
// test/e2e/provision-helm.provision.ts.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNodeView, nodeRoot, prepareNodeView } from '../../lab/node-view.js';
import { installBareStandins } from '../../lab/netns/bare.js';
import { HELM_APT_SOURCE, helmAptSourceLine, helmPackagePin } from '../../activities/addons/helm.js';
import { scratchDir } from '../helpers/scratch.js';

const root = process.getuid?.() === 0;

describe('SIMULATED apt: the helm package', { skip: root ? false : 'needs root (a mount namespace per node)' }, () => {
  let nodeDir: string;
  let cache: string;
  const built = '4.3.2';

  before(() => {
    const dir = scratchDir('mooring-apt-helm-');
    nodeDir = join(dir, 'node');
    cache = join(dir, 'cache');
    prepareNodeView(nodeDir);
    installBareStandins(nodeRoot(nodeDir));
    mkdirSync(join(nodeRoot(nodeDir), '/etc/apt/sources.list.d'), { recursive: true });
    const helm = join(cache, 'mooring', 'helm', `v${built}`, 'helm');
    mkdirSync(join(helm, '..'), { recursive: true });
    writeFileSync(helm, `#!/bin/sh\necho "STAND-IN helm from the test's cache: $*"\n`);
    chmodSync(helm, 0o755);
    // A cache entry that is not a usable build (no executable helm) is no release the lab has.
    mkdirSync(join(cache, 'mooring', 'helm', 'v4.3.1'), { recursive: true });
  });

  /** Runs `command` inside the node's view, as sshd there would. */
  function onNode(...command: string[]): { code: number; out: string } {
    const { cmd, args } = inNodeView(nodeDir, command);
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, MOORING_LAB_NODE_DIR: nodeDir, XDG_CACHE_HOME: cache } });
    return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
  }
  const source = (text: string) => writeFileSync(join(nodeRoot(nodeDir), HELM_APT_SOURCE), text);
  const install = (...pkgs: string[]) => onNode('/usr/local/sbin/apt-get', 'install', '-y', ...pkgs);

  it('refuses helm while Helm\'s repository is not configured', () => {
    const r = install(helmPackagePin(built));
    assert.equal(r.code, 100, r.out);
    assert.match(r.out, /Version '4\.3\.2-\*' for 'helm' was not found \(no packages\.buildkite\.com\/helm-linux\/helm-debian repository/);
    assert.equal(onNode('/usr/local/sbin/apt-get', 'update').code, 100, 'update with no known repository at all');
  });

  it('refuses a wrong repository line (the retired baltocdn one, a missing signed-by)', () => {
    for (const line of ['deb [signed-by=/usr/share/keyrings/helm.gpg] https://baltocdn.com/helm/stable/debian/ all main\n',
      'deb https://packages.buildkite.com/helm-linux/helm-debian/any/ any main\n']) {
      source(line);
      const r = install(helmPackagePin(built));
      assert.equal(r.code, 100, r.out);
      assert.match(r.out, /no packages\.buildkite\.com\/helm-linux\/helm-debian repository/);
    }
  });

  it('refuses helm unpinned or pinned another way than helm=X.Y.Z-*', () => {
    source(helmAptSourceLine());
    for (const p of ['helm', 'helm=4.3.2', 'helm=4.3.*', 'helm=latest']) {
      const r = install(p);
      assert.equal(r.code, 100, `${p}: ${r.out}`);
      assert.match(r.out, /the host phase pins Helm as helm=X\.Y\.Z-\*/);
    }
  });

  it('refuses a release the lab has not built, naming the ones it has', () => {
    for (const v of ['4.3.1', '3.21.4']) {
      const r = install(helmPackagePin(v));
      assert.equal(r.code, 100, r.out);
      assert.match(r.out, new RegExp(`Version '${v.replace(/\./g, '\\.')}-\\*' for 'helm' was not found \\(the lab has built Helm 4\\.3\\.2: scripts/build-helm\\.sh ${v.replace(/\./g, '\\.')}\\)`));
    }
    assert.equal(existsSync(join(nodeRoot(nodeDir), 'usr/local/sbin/helm')), false, 'nothing installed by a refused command');
  });

  it('refuses apt-mark hold helm before helm is installed', () => {
    const r = onNode('/usr/local/sbin/apt-mark', 'hold', 'helm');
    assert.equal(r.code, 100, r.out);
    assert.match(r.out, /Unable to locate package helm/);
  });

  it('installs the pinned release as a link to the cached build, holds it, shows the hold', () => {
    assert.equal(onNode('/usr/local/sbin/apt-get', 'update', '-q').code, 0, 'update with only Helm\'s repository');
    const r = install(helmPackagePin(built));
    assert.equal(r.code, 0, r.out);
    assert.equal(readlinkSync(join(nodeRoot(nodeDir), 'usr/local/sbin/helm')), join(cache, 'mooring', 'helm', `v${built}`, 'helm'));
    assert.match(onNode('helm', 'version').out, /STAND-IN helm from the test's cache: version/);
    assert.equal(onNode('/usr/local/sbin/apt-mark', 'showhold').out, '', 'nothing held yet');
    assert.equal(onNode('/usr/local/sbin/apt-mark', 'hold', 'helm').code, 0);
    assert.equal(onNode('/usr/local/sbin/apt-mark', 'showhold').out, 'helm\n');
    // Installing again is harmless (apt: already the newest version).
    assert.equal(install('--allow-change-held-packages', helmPackagePin(built)).code, 0);
  });
});
