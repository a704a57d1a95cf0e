// The SIMULATED kubelet's pure parts: its command line refuses bad input naming the flag, images
// map to the built programs (the tag picks the release; etcd by minor), the config hash moves
// exactly with the manifest's content, and the crash back-off doubles to its cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKubeletArgs } from '../../lab/kubelet/args.js';
import { binaryForImage, splitImage } from '../../lab/kubelet/binaries.js';
import { backoffMs } from '../../lab/kubelet/container.js';
import { configHash } from '../../lab/kubelet/manifests.js';
import { scratchDir } from '../helpers/scratch.js';

const good = ['--node-name', 'master-1', '--kubelet-version', 'v1.35.4', '--manifests', '/etc/kubernetes/manifests',
  '--kubeconfig', '/etc/kubernetes/kubelet.conf', '--bootstrap-kubeconfig', '/etc/kubernetes/bootstrap-kubelet.conf',
  '--state-dir', '/var/lib/kubelet', '--binaries', '/opt/k/1.35.4'];

test('kubelet arguments: accepted, and each bad value refused naming its flag', () => {
  const a = parseKubeletArgs(good);
  assert.equal(a.nodeName, 'master-1');
  assert.equal(a.healthzPort, 10248);
  assert.equal(a.stopPodsOnExit, false);
  assert.equal(parseKubeletArgs([...good, '--healthz-port=10249', '--stop-pods-on-exit']).healthzPort, 10249);
  const bad: [string[], RegExp][] = [
    [good.map((x) => (x === 'master-1' ? 'Master_1' : x)), /--node-name: "Master_1" is not a DNS-1123 subdomain/],
    [good.map((x) => (x === 'v1.35.4' ? '1.35' : x)), /--kubelet-version: "1\.35" is not vMAJOR\.MINOR\.PATCH/],
    [good.map((x) => (x === '/var/lib/kubelet' ? 'var/lib/kubelet' : x)), /--state-dir: "var\/lib\/kubelet" is not an absolute path/],
    [good.filter((x, i) => i !== 12 && i !== 13), /--binaries is required/],
    [[...good, '--node-ip', '10.0.1'], /--node-ip: "10\.0\.1" is not an IPv4 address/],
    [[...good, '--healthz-port', '70000'], /--healthz-port: "70000" is not a port number/],
    [[...good, '--colour', 'x'], /unknown flag --colour/],
  ];
  for (const [argv, message] of bad) assert.throws(() => parseKubeletArgs(argv), message);
});

test('images map to the built programs: the tag picks the release next to --binaries, etcd by minor', () => {
  assert.deepEqual(splitImage('registry.k8s.io/kube-apiserver:v1.36.3'), { repo: 'kube-apiserver', tag: 'v1.36.3' });
  assert.deepEqual(splitImage('localhost:5000/etcd:3.6.5-0@sha256:abc'), { repo: 'etcd', tag: '3.6.5-0' });
  const cache = scratchDir('mkub-unit-');
  const exe = (p: string) => {
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, '#!/bin/sh\n');
    chmodSync(p, 0o755);
  };
  exe(join(cache, 'kubernetes/1.35.4/kube-apiserver'));
  exe(join(cache, 'kubernetes/1.36.3/kube-apiserver'));
  const binaries = join(cache, 'kubernetes/1.35.4');
  assert.equal(binaryForImage('registry.k8s.io/kube-apiserver:v1.35.4', binaries).path, join(binaries, 'kube-apiserver'));
  assert.equal(binaryForImage('registry.k8s.io/kube-apiserver:v1.36.3', binaries).path, join(cache, 'kubernetes/1.36.3/kube-apiserver'));
  const fallback = binaryForImage('registry.k8s.io/kube-apiserver:v1.37.2', binaries);
  assert.equal(fallback.path, join(binaries, 'kube-apiserver'));
  assert.match(fallback.warning ?? '', /1\.37\.2 is not built/);
  assert.throws(() => binaryForImage('registry.k8s.io/kube-scheduler:v1.35.4', binaries), /no executable .*kube-scheduler; build it with scripts\/build-kubernetes\.sh/);
  exe(join(cache, 'etcd-dir/etcd'));
  assert.equal(binaryForImage('registry.k8s.io/etcd:3.6.5-0', binaries, join(cache, 'etcd-dir')).path, join(cache, 'etcd-dir/etcd'));
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = cache;
  try {
    exe(join(cache, 'mooring/etcd/3.6.9/etcd'));
    exe(join(cache, 'mooring/etcd/3.6.16/etcd'));
    assert.equal(binaryForImage('registry.k8s.io/etcd:3.6.5-0', binaries).path, join(cache, 'mooring/etcd/3.6.16/etcd'));
    assert.throws(() => binaryForImage('registry.k8s.io/etcd:3.5.24-0', binaries), /no etcd 3\.5 build/);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test('the config hash moves with the content, the node and the file, and nothing else', () => {
  const h = configHash('master-1', '/etc/kubernetes/manifests/kube-scheduler.yaml', 'a: 1\n');
  assert.match(h, /^[0-9a-f]{32}$/);
  assert.equal(configHash('master-1', '/etc/kubernetes/manifests/kube-scheduler.yaml', 'a: 1\n'), h);
  assert.notEqual(configHash('master-1', '/etc/kubernetes/manifests/kube-scheduler.yaml', 'a: 2\n'), h);
  assert.notEqual(configHash('master-2', '/etc/kubernetes/manifests/kube-scheduler.yaml', 'a: 1\n'), h);
});

test('crash back-off doubles from 1 s to a 32 s cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs), [1000, 2000, 4000, 8000, 16_000, 32_000, 32_000, 32_000]);
});
