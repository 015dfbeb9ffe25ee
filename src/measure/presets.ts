import { InputError } from '../errors.js';
import type { Placement, TestSpec } from '../result/types.js';
import { pinVariants, qperfTests, quickTests, tcpTest, udpTest } from './tests.js';
import { expandLoop } from '../runners/qperf.js';

/**
 * Presets re-run a field study (shared/reference/studies.md) with one command: they choose the
 * schemes, the tests and the environment knobs. Schemes are named as strings and resolved through
 * the registry at run time, so a preset may name a scheme this cnlab does not have yet: it is then
 * listed as "not available in this cnlab yet" and the rest still run. Flags given on the command
 * line override a preset's values.
 */

export interface PresetScheme {
  name: string;
  /** Where this scheme is measured; absent: wherever the preset's tests go. */
  placements?: Placement[];
  /** What the study called it, when that differs (S3's "hostnetwork" is cnlab's host). */
  studyName?: string;
}

export interface PresetContext {
  udpRate: string;
  sizes: string;
}

export interface Preset {
  name: string;
  /** One line for `cnlab presets`. */
  description: string;
  schemes: PresetScheme[];
  knobs: { cpus?: string; pin?: boolean; offloads?: 'on' | 'off'; linkRate?: string };
  seconds?: number;
  repeats?: number;
  udpRate?: string;
  tests(ctx: PresetContext): TestSpec[];
}

export const PRESETS: readonly Preset[] = [
  {
    name: 's1-cloud',
    description: 'S1 "Docker network on cloud": 1 CPU, offloads off, qperf tcp_bw + tcp_lat over 1 B–64 KiB cross-host, CPU per Gbit',
    schemes: ['host', 'calico', 'calico-ipip', 'flannel-vxlan', 'flannel-udp', 'docker-overlay', 'weave-sleeve', 'macvlan'].map((name) => ({
      name,
      placements: ['cross' as const],
    })),
    knobs: { cpus: '0', offloads: 'off' },
    seconds: 1,
    tests: ({ sizes }) => [...qperfTests('tcp_bw', expandLoop(sizes), 'cross'), ...qperfTests('tcp_lat', expandLoop(sizes), 'cross')],
  },
  {
    name: 's2-production',
    description:
      "S2 production choices: PPTV's flat bridge on the host L2 segment, Calico, and Meizu's OVS internal port against an OVS veth port; the default tests (TCP, UDP and UDP latency cross-host, TCP same-host)",
    schemes: [
      { name: 'host' },
      { name: 'bridge-l2', studyName: 'PPTV flat bridge (br-oak)' },
      { name: 'calico' },
      { name: 'ovs', studyName: 'Meizu OVS, veth port' },
      { name: 'ovs-internal', studyName: 'Meizu OVS, internal port' },
    ],
    knobs: {},
    tests: ({ udpRate }) => quickTests(udpRate, ['cross', 'same']),
  },
  {
    name: 's3-k8s',
    description: 'S3 Kubernetes schemes on one testbed: eight schemes, iperf3 TCP cross-host for 60 s (--duration to change)',
    schemes: [
      { name: 'host', studyName: 'hostnetwork' },
      { name: 'macvlan' },
      { name: 'ovs' },
      { name: 'ovs-linuxbridge' },
      { name: 'calico' },
      { name: 'flannel-hostgw' },
      { name: 'flannel-vxlan' },
      { name: 'canal' },
    ].map((s) => ({ ...s, placements: ['cross' as const] })),
    knobs: {},
    seconds: 60,
    tests: () => [tcpTest(1, 'cross')],
  },
  {
    name: 's4-docker',
    description:
      'S4 Docker x86/ARM: same-host docker-bridge vs ovs, cross-host docker-overlay vs ovs-overlay; TCP and UDP at 800M on a 1 Gbit link, pinned and unpinned',
    schemes: [
      { name: 'host', placements: ['same', 'cross'] },
      { name: 'docker-bridge', placements: ['same'] },
      { name: 'ovs', placements: ['same'] },
      { name: 'docker-overlay', placements: ['cross'] },
      { name: 'ovs-overlay', placements: ['cross'] },
    ],
    knobs: { linkRate: '1gbit' },
    seconds: 10,
    udpRate: '800M',
    tests: ({ udpRate }) =>
      (['same', 'cross'] as const).flatMap((p) => [...pinVariants(tcpTest(1, p)), ...pinVariants(udpTest(udpRate, p))]),
  },
];

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name);
}

export function getPreset(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) throw new InputError(`unknown preset "${name}"`, `presets: ${presetNames().join(', ')} (see: cnlab presets)`);
  return p;
}

/** Pure: the preset's tests for a scheme, limited to the placements it is measured in. */
export function testsFor(tests: TestSpec[], placements: Placement[] | undefined): TestSpec[] {
  return placements ? tests.filter((t) => placements.includes(t.placement)) : tests;
}
