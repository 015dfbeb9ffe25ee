import { describe, expect, it } from 'vitest';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { toolArgs } from '../src/plan/argv.js';
import { planLab } from '../src/plan/build.js';
import { renderPlan, stepShell } from '../src/plan/render.js';
import type { Scheme } from '../src/plan/scheme.js';
import { bpfFilter, file, qdisc } from '../src/plan/steps.js';
import { packetPath } from '../src/report/path.js';
import { planFacts, tcOn } from '../src/report/plan-facts.js';
import type { SchemeRecord } from '../src/result/types.js';
import { getScheme } from '../src/schemes/registry.js';

/**
 * The extension point: a scheme (test-only, not registered) that adds a kind of object the
 * registered schemes do not use — here tc qdiscs — needs no parser anywhere. The plan script
 * renders it, apply batches it into `tc -batch`, and the report's packet path shows it, all from
 * the typed step.
 */

const base = getScheme('flannel-vxlan');
const shaped: Scheme = {
  ...base,
  name: 'flannel-vxlan-shaped',
  build(lab, host) {
    const b = base.build(lab, host);
    const h1 = lab.hosts[0];
    const c = h1.containers[0];
    return {
      ...b,
      stages: [
        ...b.stages,
        {
          title: 'shaping: htb on the underlay port, tbf on the first container',
          steps: [
            qdisc(h1.ns, h1.underlayIf, { type: 'htb', handle: '1:', default: '10' }),
            qdisc(c.ns, 'eth0', { type: 'tbf', rate: '100mbit', burst: '15000', latency: '20ms' }),
          ],
        },
      ],
    };
  },
};

describe('a test-only scheme with qdisc steps', () => {
  const topo = loadTopology({ lab: 'ext' });
  const lab = resolveLab(topo);
  const { plan, build } = planLab(lab, shaped);

  it('the plan script shows the tc commands', () => {
    const script = renderPlan(plan);
    expect(script).toContain('tc -n cnl-ext-h1 qdisc add dev eth0 root handle 1: htb default 10');
    expect(script).toContain('tc -n cnl-ext-h1c1 qdisc add dev eth0 root tbf rate 100mbit burst 15000 latency 20ms');
  });

  it('apply runs them through tc -batch', () => {
    const steps = plan.stages.at(-1)!.steps;
    expect(steps.map((s) => toolArgs(s)?.tool)).toEqual(['tc', 'tc']);
  });

  it('the report sees them without a parser change: facts per device, and on the packet path', () => {
    const f = planFacts(plan);
    expect(f.qdiscs).toEqual([
      { ns: 'cnl-ext-h1', dev: 'eth0', type: 'htb', text: 'htb' },
      { ns: 'cnl-ext-h1c1', dev: 'eth0', type: 'tbf', text: 'tbf 100mbit' },
    ]);
    const s: SchemeRecord = {
      name: shaped.name,
      status: 'ok',
      summary: '',
      attach: shaped.attach,
      notes: [],
      overhead: shaped.overhead,
      mtu: build.mtu,
      plan,
      workloads: build.workloads,
      tests: [],
    };
    const p = packetPath(s, topo);
    expect(p.cross[0].detail).toBe('veth, MTU 1450, tc tbf 100mbit');
    expect(p.cross.find((h) => h.kind === 'underlay')?.detail).toBe('underlay, MTU 1500, tc htb');
    expect(p.fabric).toBe('overlay');
  });
});

describe('the step kinds BPF and BGP schemes will use: clsact, tc bpf filter, config file', () => {
  const steps = [
    qdisc('h', 'eth0', { type: 'clsact' }),
    bpfFilter('h', 'eth0', 'ingress', { obj: '/run/cnlab/x/prog.o', sec: 'tc', da: true }, 1),
    file('h', '/run/cnlab/x/bird/bird.conf', 'router id 198.18.0.1;\nprotocol device {}\n'),
  ];

  it('render as tc lines and a heredoc', () => {
    expect(steps.flatMap((s) => stepShell(s, '/usr/lib/cni'))).toEqual([
      'tc -n h qdisc add dev eth0 clsact',
      'tc -n h filter add dev eth0 ingress prio 1 bpf da obj /run/cnlab/x/prog.o sec tc',
      'mkdir -p /run/cnlab/x/bird',
      "(umask 077 && cat > /run/cnlab/x/bird/bird.conf) <<'FILE'",
      'router id 198.18.0.1;\nprotocol device {}',
      'FILE',
      'chmod 0600 /run/cnlab/x/bird/bird.conf',
    ]);
  });

  it('the report lists the filter on its device', () => {
    const f = planFacts({ lab: 'x', scheme: 'x', namespaces: ['h'], stages: [{ title: 't', steps }] });
    expect(tcOn(f, 'h', 'eth0')).toEqual(['clsact', 'ingress bpf /run/cnlab/x/prog.o:tc (direct action)']);
  });
});
