import { describe, expect, it } from 'vitest';
import { measurement, missingRecord, presetEntries, toolsNeeded } from '../src/cli/run-options.js';
import { DEFAULT_TOPOLOGY } from '../src/lab/topology.js';
import { resolveLab } from '../src/lab/resolve.js';
import type { Topology } from '../src/lab/types.js';
import { getPreset, PRESETS, testsFor } from '../src/measure/presets.js';
import { serverNeeds } from '../src/measure/servers.js';
import { estimateSeconds, fullTests, quickTests } from '../src/measure/tests.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan } from '../src/plan/render.js';
import { tunnelDevices } from '../src/plan/offloads.js';
import { bridge, link, linkSet, vxlan } from '../src/plan/steps.js';
import { cpusFor, parseCpuList, parseCpusAllowed, tasksetPrefix } from '../src/runners/affinity.js';
import { expandLoop } from '../src/runners/qperf.js';
import { toolOf } from '../src/runners/registry.js';
import { getScheme, SCHEMES } from '../src/schemes/registry.js';

const topo = (over: Partial<Topology> = {}): Topology => ({ ...structuredClone(DEFAULT_TOPOLOGY), lab: 'mp', ...over });

describe('test catalogue', () => {
  it('the quick default: 4 tests, only the service port, about 15 s of measuring per scheme', () => {
    const t = quickTests('1G', ['cross', 'same']);
    expect(t.map((x) => x.id)).toEqual(['tcp-1/cross', 'udp/cross', 'udp-lat/cross', 'tcp-1/same']);
    for (const x of t) {
      const { needs, ports } = serverNeeds(x, {});
      expect([x.id, needs.map((n) => n.port)]).toEqual([x.id, [5201]]);
      // qperf's data connection: over UDP it shares the service port's number.
      const argv = toolOf(x).clientArgv(x, { ns: 'cnl-mp-h1c1', target: '198.19.2.2', port: ports.main, seconds: 1 });
      if (x.kind === 'qperf') expect(argv.slice(argv.indexOf('-ip'), argv.indexOf('-ip') + 2)).toEqual(['-ip', '5201']);
    }
    // budget: ≤ ~30 s per scheme with build and teardown; measured ≈ 15 s on the 2-core box
    expect(estimateSeconds(t, 3, 1, 1)).toBeLessThan(16);
    // One warm-up per placement, not per test.
    expect(estimateSeconds(t, 3, 1, 1) - estimateSeconds(t, 3, 1, 0)).toBeCloseTo(2);
  });

  it('--full: stream and datagram sweeps, rate search, latency (also loaded), qperf sweeps cross-host', () => {
    const t = fullTests('1G', ['cross', 'same'], '1:64K:*2');
    const ids = t.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'tcp-8/same',
      'udp-len1472/cross',
      'udp-max-rate/cross',
      'lat-tcp-loaded/cross',
      'lat-udp/same',
      'qperf-tcp_bw-65536/cross',
      'qperf-udp_lat-32768/cross',
    ])
      expect(ids).toContain(id);
    expect(ids).not.toContain('qperf-udp_bw-65536/cross'); // larger than a UDP datagram
    expect(ids.some((id) => id.startsWith('qperf-') && id.endsWith('/same'))).toBe(false);
    expect(t.filter((x) => x.sweep?.series === 'qperf tcp_bw').map((x) => x.msgSize)).toEqual(expandLoop('1:64K:*2'));
  });

  it('a TCP probe beside an iperf3 bulk flow takes a port of its own', () => {
    const [loaded] = fullTests('1G', ['cross']).filter((x) => x.id === 'lat-tcp-loaded/cross');
    const n = serverNeeds(loaded, { server: '1', loadServer: '0' });
    expect(n.needs.map((s) => [s.tool, s.protocol, s.port, s.cpus])).toEqual([
      ['iperf3', 'tcp', 5201, '0'],
      ['sockperf', 'tcp', 5203, '1'],
    ]);
    expect(n.ports).toEqual({ main: 5203, load: 5201 });
  });
});

describe('presets', () => {
  it('each has a name, a one-line description and tests; schemes are names', () => {
    expect(PRESETS.map((p) => p.name)).toEqual(['s1-cloud', 's2-production', 's3-k8s', 's4-docker']);
    for (const p of PRESETS) {
      expect(p.description).not.toMatch(/\n/);
      expect(p.tests({ udpRate: '1G', sizes: '1:64K:*2' }).length).toBeGreaterThan(0);
    }
    expect(() => getPreset('s9')).toThrow(/unknown preset "s9"/);
  });

  it('s1-cloud: the study’s eight schemes, 1 CPU, offloads off, qperf tcp_bw + tcp_lat over 17 sizes', () => {
    const p = getPreset('s1-cloud');
    expect(p.schemes.map((s) => s.name)).toEqual([
      'host',
      'calico',
      'calico-ipip',
      'flannel-vxlan',
      'flannel-udp',
      'docker-overlay',
      'weave-sleeve',
      'macvlan',
    ]);
    expect(p.knobs).toMatchObject({ cpus: '0', offloads: 'off' });
    const tests = p.tests({ udpRate: '1G', sizes: '1:64K:*2' });
    expect(tests).toHaveLength(34);
    expect(new Set(tests.map((t) => t.qperfTest))).toEqual(new Set(['tcp_bw', 'tcp_lat']));
  });

  it('s2-production: PPTV’s flat bridge, Calico, Meizu’s OVS internal port beside the veth port; every scheme exists', () => {
    const p = getPreset('s2-production');
    expect(p.schemes.map((s) => s.name)).toEqual(['host', 'bridge-l2', 'calico', 'ovs', 'ovs-internal']);
    for (const e of presetEntries(p)) expect('scheme' in e, JSON.stringify(e)).toBe(true);
    expect(p.tests({ udpRate: '1G', sizes: '1:2:*2' }).map((t) => t.id)).toEqual(quickTests('1G', ['cross', 'same']).map((t) => t.id));
  });

  it('s3-k8s and s4-docker name the study’s schemes and settings', () => {
    expect(getPreset('s3-k8s').schemes.map((s) => s.name)).toEqual([
      'host',
      'macvlan',
      'ovs',
      'ovs-linuxbridge',
      'calico',
      'flannel-hostgw',
      'flannel-vxlan',
      'canal',
    ]);
    expect(getPreset('s3-k8s').seconds).toBe(60);
    const s4 = getPreset('s4-docker');
    expect(s4.knobs.linkRate).toBe('1gbit');
    const tests = s4.tests({ udpRate: '800M', sizes: '1:2:*2' });
    expect(tests.map((t) => t.id)).toContain('udp-unpinned/cross');
    expect(tests.filter((t) => t.pin === true)).toHaveLength(4);
    const bridge = s4.schemes.find((s) => s.name === 'docker-bridge')!;
    expect(testsFor(tests, bridge.placements).every((t) => t.placement === 'same')).toBe(true);
  });

  it('a scheme missing from the registry is listed, not imported; the rest resolve', () => {
    const fake = { ...getPreset('s3-k8s'), schemes: [{ name: 'host' }, { name: 'no-such-scheme' }] };
    const entries = presetEntries(fake);
    expect('scheme' in entries[0] && entries[0].scheme.name).toBe('host');
    expect(entries[1]).toEqual({ missing: 'no-such-scheme' });
    expect(missingRecord('no-such-scheme')).toMatchObject({ status: 'unsupported', reason: 'not available in this cnlab yet', tests: [] });
    // Every scheme the presets name is in the registry today, as the registry's own object.
    for (const p of PRESETS) {
      for (const [i, e] of presetEntries(p).entries()) {
        expect([p.name, 'scheme' in e ? e.scheme.name : `missing ${e.missing}`]).toEqual([p.name, p.schemes[i].name]);
        if ('scheme' in e) expect(SCHEMES).toContain(e.scheme);
      }
    }
  });
});

describe('run options', () => {
  it('defaults: 3 repeats × 1 s, 1 s warm-up, not pinned, all CPUs', () => {
    const m = measurement({}, topo());
    expect(m.suite).toMatchObject({ repeats: 3, seconds: 1, udpRate: '1G', warmupSeconds: 1, pin: false });
    expect(m.knobs).toEqual({ pin: false, mtu: 1500 });
    expect(toolsNeeded(m.tests)).toEqual(['iperf3', 'qperf']);
  });

  it('the quick default runs 2 repeats, unless --repeats, --full, --tests or a preset says otherwise', () => {
    expect(measurement({}, topo(), true).suite.repeats).toBe(2);
    expect(measurement({ repeats: '3' }, topo(), true).suite.repeats).toBe(3);
    expect(measurement({ full: true }, topo(), true).suite.repeats).toBe(3);
    expect(measurement({ tests: 'tcp-1' }, topo(), true).suite.repeats).toBe(3);
    expect(measurement({ preset: 's3-k8s' }, topo(), true).suite.repeats).toBe(measurement({ preset: 's3-k8s' }, topo()).suite.repeats);
  });

  it('a preset fills what no flag set; flags win', () => {
    const m = measurement({ preset: 's3-k8s' }, topo({ sameHost: false }));
    expect(m.suite.seconds).toBe(60);
    expect(measurement({ preset: 's3-k8s', duration: '5' }, topo()).suite.seconds).toBe(5);
    const s1 = measurement({ preset: 's1-cloud', cpus: '1' }, topo());
    expect(s1.knobs.cpus).toBe('1');
    expect(measurement({ preset: 's1-cloud' }, topo()).knobs.cpus).toBe('0');
  });

  it('--tests picks tests by name from --full’s catalogue (or the preset’s)', () => {
    expect(measurement({ tests: 'tcp-1,tcp-4' }, topo()).tests.map((t) => t.id)).toEqual([
      'tcp-1/cross',
      'tcp-4/cross',
      'tcp-1/same',
      'tcp-4/same',
    ]);
    expect(measurement({ tests: 'qperf-tcp_lat-64', sizes: '1:64:*4' }, topo()).tests.map((t) => t.id)).toEqual(['qperf-tcp_lat-64/cross']);
    expect(() => measurement({ tests: 'tcp-3' }, topo())).toThrow(/unknown test "tcp-3"/);
  });

  it.each([
    [{ cpus: '0-' }, /CPU list/],
    [{ cpus: '99' }, /this machine has CPUs/],
    [{ repeats: '0' }, /--repeats/],
    [{ warmup: 'x' }, /--warmup/],
    [{ sizes: '1:2' }, /size sweep/],
    [{ preset: 's1-cloud', full: true }, /do not go together/],
  ])('rejects %o', (flags, re) => {
    expect(() => measurement(flags, topo())).toThrow(re);
  });
});

describe('affinity', () => {
  it('parses CPU lists and /proc status', () => {
    expect(parseCpuList('0,2-3')).toEqual([0, 2, 3]);
    expect(() => parseCpuList('3-1')).toThrow(/backwards/);
    expect(tasksetPrefix('0')).toEqual(['taskset', '-c', '0']);
    expect(tasksetPrefix(undefined)).toEqual([]);
    expect(parseCpusAllowed('Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n')).toBe('0-1');
  });

  it('pinning gives client and server their own core; without it, the set or nothing', () => {
    expect([0, 1, 2, 3].map((slot) => cpusFor(slot, undefined, true, [0, 1]))).toEqual(['0', '1', '0', '1']);
    expect(cpusFor(1, [3], true, [0, 1, 2, 3])).toBe('3');
    expect(cpusFor(1, [0, 1], false, [0, 1])).toBe('0,1');
    expect(cpusFor(1, undefined, false, [0, 1])).toBeUndefined();
  });
});

describe('offloads knob as a plan stage', () => {
  it('ethtool -K on underlay ports, the VXLAN device and workload interfaces; shown by the plan script', () => {
    const lab = resolveLab(topo({ offloads: 'off' }));
    const { plan } = planLab(lab, getScheme('flannel-vxlan'));
    const stage = plan.stages.at(-1)!;
    expect(stage.title).toMatch(/^offloads off/);
    const targets = stage.steps.map((s) => (s.kind === 'exec' ? `${s.ns}:${s.argv[2]}` : ''));
    expect(targets).toEqual([
      'cnl-mp-h1:eth0',
      'cnl-mp-h2:eth0',
      'cnl-mp-h1:flannel.1',
      'cnl-mp-h2:flannel.1',
      'cnl-mp-h1c1:eth0',
      'cnl-mp-h1c2:eth0',
      'cnl-mp-h2c1:eth0',
    ]);
    expect(stage.steps[0]).toMatchObject({
      kind: 'exec',
      argv: ['ethtool', '-K', 'eth0', 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off'],
    });
    expect(renderPlan(plan)).toContain('ip netns exec cnl-mp-h1 ethtool -K flannel.1 tso off gso off gro off tx off rx off');
    // without the knob there is no such stage
    expect(planLab(resolveLab(topo()), getScheme('flannel-vxlan')).plan.stages.some((s) => s.title.startsWith('offloads'))).toBe(false);
  });

  it('follows a tunnel device moved to another namespace', () => {
    const stages = [
      {
        title: 't',
        steps: [
          vxlan('h', 'vx0', { id: 1, dstport: 4789 }),
          bridge('h', 'br0'),
          linkSet('h', 'vx0', { netns: 'ov' }),
          link('h', 'tun0', { type: 'tun' }),
        ],
      },
    ];
    expect(tunnelDevices(stages)).toEqual([
      { ns: 'ov', dev: 'vx0' },
      { ns: 'h', dev: 'tun0' },
    ]);
  });
});
