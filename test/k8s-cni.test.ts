import { readFileSync } from 'node:fs';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { Pod } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { cniFromConfig, cniFromDaemonSets, combineCni, factsPod, imageTag, parseFacts } from '../src/k8s/cni.js';
import { detectCni } from '../src/k8s/nodes.js';
import { clusterLines } from '../src/report/cluster.js';
import type { ResultFile } from '../src/result/types.js';

/**
 * Kubernetes mode's CNI detection, pure parts: a DaemonSet list and facts-pod logs shaped as the
 * API and the pod print them (fixtures modelled on calico's and flannel's own manifests, not
 * captured from a cluster).
 */

const fixture = (name: string) => readFileSync(new URL(`./fixtures/k8s/${name}`, import.meta.url), 'utf8');
const daemonSets = (JSON.parse(fixture('daemonsets-calico.json')) as { items: V1DaemonSet[] }).items;
const noAnnotation = detectCni([{ metadata: { name: 'worker-1' } }]);

describe('k8s CNI from DaemonSets', () => {
  it('names the CNI from a known DaemonSet in any namespace and takes its version from the first container’s image tag', () => {
    const ds = cniFromDaemonSets(daemonSets);
    expect(ds).toMatchObject({ source: 'daemonset', name: 'calico', version: 'v3.28.2' });
    expect(ds.detail).toContain('DaemonSet calico-system/calico-node, image docker.io/calico/node:v3.28.2@sha256:');
    expect(cniFromDaemonSets(daemonSets.slice(0, 1))).toEqual({ source: 'daemonset', detail: 'no known CNI DaemonSet among 1' });
    expect(imageTag('registry.local:5000/flannel/flannel')).toBeUndefined();
    expect(imageTag('registry.local:5000/flannel/flannel:v0.25.6')).toBe('v0.25.6');
  });
});

describe('k8s CNI from the node’s /etc/cni/net.d', () => {
  it('takes the first valid file by name, as a runtime does, and its main plugin’s MTU', () => {
    const f = parseFacts(fixture('facts-calico.log'));
    expect(f.mtu).toBe(1450);
    expect(f.files.map((x) => x.name)).toEqual(['99-loopback.conf', '10-calico.conflist']);
    expect(cniFromConfig(f.files, 'worker-2')).toMatchObject({
      name: 'calico',
      plugin: 'calico',
      mtu: 1450,
      file: '/etc/cni/net.d/10-calico.conflist',
    });
    // A broken file is skipped and said so; flannel's config sets no MTU (flanneld's subnet.env does).
    const fl = cniFromConfig(parseFacts(fixture('facts-flannel.log')).files, 'worker-2');
    expect(fl).toMatchObject({ name: 'flannel', plugin: 'flannel', file: '/etc/cni/net.d/10-flannel.conflist' });
    expect(fl.mtu).toBeUndefined();
    expect(fl.detail).toBe(
      'node worker-2 /etc/cni/net.d/10-flannel.conflist: plugin flannel, no MTU set (skipped 05-broken.conf: not JSON)',
    );
    // A generic plugin names no CNI; a path as a plugin type is refused.
    expect(cniFromConfig([{ name: 'a.conf', text: '{"type":"bridge","mtu":1450}' }], 'n').name).toBeUndefined();
    expect(cniFromConfig([{ name: 'a.conf', text: '{"type":"../../bin/sh"}' }], 'n')).toEqual({
      source: 'node-config',
      detail: 'node n /etc/cni/net.d: no valid config (a.conf: no plugin type)',
    });
    expect(parseFacts('cnlab-pod-mtu cat: /sys/class/net/eth0/mtu: No such file\n').mtu).toBeUndefined();
  });

  it('the facts pod: pod network, the node’s directory read-only, a valid Pod', () => {
    const p = factsPod('r', 'img', 'worker-2');
    expect(p.spec!.hostNetwork).toBe(false);
    expect(p.spec!.volumes).toEqual([{ name: 'cni-conf', hostPath: { path: '/etc/cni/net.d', type: 'Directory' } }]);
    expect(p.spec!.containers[0].volumeMounts).toEqual([{ name: 'cni-conf', mountPath: '/host/etc/cni/net.d', readOnly: true }]);
    // Only the files a runtime loads: never calico's kubeconfig beside them.
    expect(p.spec!.containers[0].command![2]).toMatch(/\*\.conf .*\*\.conflist .*\*\.json;/);
    new Pod(p as never).validate();
    expect(factsPod('r', 'img', 'worker-2', false).spec!.volumes).toBeUndefined();
  });
});

describe('k8s CNI sources combined', () => {
  const conf = cniFromConfig(parseFacts(fixture('facts-calico.log')).files, 'worker-2');
  it('names it from the DaemonSet first and says so, keeping the node config’s plugin and MTU', () => {
    const c = combineCni(cniFromDaemonSets(daemonSets), conf, noAnnotation, 'worker-2');
    expect(c).toMatchObject({ name: 'calico', version: 'v3.28.2', plugin: 'calico', configMtu: 1450, configNode: 'worker-2' });
    expect(c.detectedFrom).toMatch(/^DaemonSet calico-system\/calico-node, .*\(version: its image tag\)$/);
    expect(c.sources!.map((s) => [s.source, s.name])).toEqual([
      ['daemonset', 'calico'],
      ['node-config', 'calico'],
      ['node-annotation', undefined],
    ]);
  });

  it('falls back to the node config, then the annotations, which may add the backend', () => {
    const none = cniFromDaemonSets([]);
    const byConf = combineCni(none, conf, noAnnotation, 'worker-2');
    expect(byConf).toMatchObject({ name: 'calico', detectedFrom: conf.detail });
    expect(byConf.version).toBeUndefined();
    const flannelNode = { metadata: { name: 'w', annotations: { 'flannel.alpha.coreos.com/backend-type': 'vxlan' } } };
    const fl = combineCni(none, cniFromConfig(parseFacts(fixture('facts-flannel.log')).files, 'w'), detectCni([flannelNode]), 'w');
    expect(fl.name).toBe('flannel-vxlan');
    expect(fl.detectedFrom).toContain('; backend from node annotation flannel.alpha.coreos.com/backend-type');
    // A source that disagrees is named: a DaemonSet says cilium, the node's config is still calico's.
    const ciliumDs = {
      metadata: { name: 'cilium', namespace: 'kube-system' },
      spec: { template: { spec: { containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.3' }] } } },
    };
    const mixed = combineCni(cniFromDaemonSets([ciliumDs as V1DaemonSet]), conf, noAnnotation, 'worker-2');
    expect(mixed).toMatchObject({ name: 'cilium', version: 'v1.16.3', plugin: 'calico' });
    expect(mixed.detectedFrom).toMatch(/; but node worker-2 \/etc\/cni\/net\.d\/10-calico\.conflist: plugin calico, MTU 1450 says calico$/);
    const unknown = combineCni(none, { source: 'node-config', detail: 'not read' }, noAnnotation, 'w');
    expect(unknown).toMatchObject({ name: 'unknown', detectedFrom: 'no known DaemonSet, node config or node annotation' });
  });

  it('the report lists the CNI, its source and the MTU inside the pods', () => {
    const cni = combineCni(cniFromDaemonSets(daemonSets), conf, noAnnotation, 'worker-2');
    const r = {
      cluster: { kubernetesVersion: 'v1.31.2', server: 's', cni, podMtu: 1450, nodes: [], namespace: 'cnlab-x', image: 'i' },
    } as unknown as ResultFile;
    const lines = clusterLines(r);
    expect(lines).toContain('MTU inside the pods (eth0): 1450');
    expect(lines).toContain('node config: worker-2 /etc/cni/net.d/10-calico.conflist, plugin calico, MTU 1450');
    expect(lines[1]).toMatch(/^CNI: calico v3\.28\.2, from DaemonSet calico-system\/calico-node/);
    expect(clusterLines({} as ResultFile)).toEqual([]);
  });
});
