import type { FilterStep, LinkStep, MountStep, OvsOp, QdiscSpec, Step } from './types.js';

/**
 * The one place a step becomes a command line (pure). plan/render.ts prints these, apply/ runs
 * them: the objects an iproute2 tool makes are arguments to `ip`, `bridge` or `tc` (batched by
 * apply, `-n NS` in the script); OVS steps are one-shot programs run inside the namespace.
 */

export type BatchTool = 'ip' | 'bridge' | 'tc';

const flag = (on: boolean | undefined, word: string): string[] => (on ? [word] : []);
const opt = (value: string | number | undefined, word: string): string[] => (value === undefined ? [] : [word, String(value)]);

function linkAddArgs(s: LinkStep): string[] {
  if (s.type === 'tun' || s.type === 'tap') return ['tuntap', 'add', 'dev', s.name, 'mode', s.type];
  const head = [
    'link',
    'add',
    s.name,
    ...opt(s.index, 'index'),
    ...(s.type === 'macvlan' || s.type === 'ipvlan' ? ['link', s.parent] : []),
    ...opt(s.mtu, 'mtu'),
    'type',
    s.type,
  ];
  switch (s.type) {
    case 'veth':
      return [...head, 'peer', 'name', s.peer.name, ...opt(s.peer.mtu, 'mtu'), ...opt(s.peer.ns, 'netns')];
    case 'vxlan': {
      const v = s.vxlan;
      const learning = v.learning === undefined ? [] : [v.learning ? 'learning' : 'nolearning'];
      // A collect-metadata device without an id: `external dstport P`, as Cilium's docs write it.
      const metadataOnly = v.id === undefined;
      return [
        ...head,
        ...opt(v.id, 'id'),
        ...flag(metadataOnly, 'external'),
        ...opt(v.local, 'local'),
        ...opt(v.dev, 'dev'),
        'dstport',
        String(v.dstport),
        ...learning,
        ...flag(v.proxy, 'proxy'),
        ...flag(v.l2miss, 'l2miss'),
        ...flag(v.l3miss, 'l3miss'),
        ...flag(v.external && !metadataOnly, 'external'),
      ];
    }
    case 'ipip':
    case 'gre':
    case 'gretap':
    case 'sit':
      return [...head, ...opt(s.tunnel.local, 'local'), ...opt(s.tunnel.remote, 'remote'), ...opt(s.tunnel.dev, 'dev')];
    case 'macvlan':
    case 'ipvlan':
      return [...head, 'mode', s.mode];
    default:
      return head;
  }
}

function qdiscArgs(q: QdiscSpec): string[] {
  switch (q.type) {
    case 'tbf':
      return ['root', 'tbf', 'rate', q.rate, 'burst', q.burst, 'latency', q.latency];
    case 'htb':
      return ['root', ...opt(q.handle, 'handle'), 'htb', ...opt(q.default, 'default')];
    case 'clsact':
      return ['clsact'];
  }
}

function filterArgs(step: FilterStep): string[] {
  return [
    'filter',
    'add',
    'dev',
    step.dev,
    step.hook,
    ...opt(step.prio, 'prio'),
    'bpf',
    ...flag(step.bpf.da, 'da'),
    'obj',
    step.bpf.obj,
    'sec',
    step.bpf.sec,
  ];
}

/** `mount -t bpf bpf PATH` (run in cnlab's own mount namespace, after `mkdir -p PATH`). */
export function mountArgs(step: MountStep): string[] {
  return ['-t', step.fstype, step.fstype, step.path];
}

/** For a step one of the batched iproute2 tools makes: the tool and its arguments (after `-n NS`). */
export function toolArgs(step: Step): { tool: BatchTool; args: string[] } | undefined {
  switch (step.kind) {
    case 'link':
      return { tool: 'ip', args: linkAddArgs(step) };
    case 'link-set': {
      const master = step.master === null ? ['nomaster'] : opt(step.master, 'master');
      const state = step.up === undefined ? [] : [step.up ? 'up' : 'down'];
      return {
        tool: 'ip',
        args: [
          'link',
          'set',
          step.name,
          ...opt(step.address, 'address'),
          ...opt(step.mtu, 'mtu'),
          ...opt(step.txqueuelen, 'txqueuelen'),
          ...master,
          ...opt(step.netns, 'netns'),
          ...state,
        ],
      };
    }
    case 'addr':
      return { tool: 'ip', args: ['addr', step.op, step.cidr, 'dev', step.dev] };
    case 'route':
      return {
        tool: 'ip',
        args: [
          'route',
          'add',
          ...flag(step.blackhole, 'blackhole'),
          step.dest,
          ...opt(step.via, 'via'),
          ...opt(step.dev, 'dev'),
          ...opt(step.scope, 'scope'),
          ...flag(step.onlink, 'onlink'),
        ],
      };
    case 'neigh':
      return { tool: 'ip', args: ['neigh', 'add', step.addr, 'lladdr', step.lladdr, 'dev', step.dev, 'nud', 'permanent'] };
    case 'fdb':
      return { tool: 'bridge', args: ['fdb', step.op, step.mac, 'dev', step.dev, ...opt(step.dst, 'dst'), 'self', 'permanent'] };
    case 'qdisc':
      return { tool: 'tc', args: ['qdisc', 'add', 'dev', step.dev, ...qdiscArgs(step.qdisc)] };
    case 'filter':
      // With a pin root, tc needs TC_BPF_MNT in its environment: it runs alone (programOf).
      return step.bpf.pinRoot === undefined ? { tool: 'tc', args: filterArgs(step) } : undefined;
    default:
      return undefined;
  }
}

/** ovs-vsctl commands (joined by `--` into one transaction) for one operation. */
function ovsCommands(op: OvsOp): string[][] {
  if (op.op === 'add-br') {
    const set = ['set', 'bridge', op.bridge, `datapath_type=${op.datapath}`, `fail_mode=${op.failMode}`];
    if (op.hwaddr) set.push(`other-config:hwaddr=${op.hwaddr}`);
    const cmds = [['add-br', op.bridge], set];
    if (op.mtu) cmds.push(['set', 'interface', op.bridge, `mtu_request=${op.mtu}`]);
    return cmds;
  }
  const cmds = [['add-port', op.bridge, op.port]];
  const set = [
    ...(op.type ? [`type=${op.type}`] : []),
    ...Object.entries(op.options ?? {}).map(([k, v]) => `options:${k}=${v}`),
    ...(op.mtuRequest ? [`mtu_request=${op.mtuRequest}`] : []),
  ];
  if (set.length) cmds.push(['set', 'interface', op.port, ...set]);
  return cmds;
}

/** For a step run as one program inside its namespace: argv, environment and standard input. */
export function programOf(step: Step): { argv: string[]; env?: Record<string, string>; input?: string } | undefined {
  switch (step.kind) {
    case 'exec':
      return { argv: step.argv, env: step.env, input: step.input };
    case 'filter':
      return step.bpf.pinRoot === undefined ? undefined : { argv: ['tc', ...filterArgs(step)], env: { TC_BPF_MNT: step.bpf.pinRoot } };
    case 'ovs': {
      const commands = step.ops.flatMap(ovsCommands);
      return { argv: ['ovs-vsctl', `--db=${step.db}`, '--timeout=30', ...commands.flatMap((c, i) => (i ? ['--', ...c] : c))] };
    }
    case 'ovs-flows':
      return { argv: ['ovs-ofctl', 'add-flows', `unix:${step.mgmt}`, '-'], input: `${step.flows.join('\n')}\n` };
    default:
      return undefined;
  }
}

/** `sysctl -qw key=value` arguments for consecutive sysctl steps. */
export function sysctlArgs(steps: Step[]): string[] {
  return ['-qw', ...steps.flatMap((s) => (s.kind === 'sysctl' ? [`${s.key}=${s.value}`] : []))];
}
