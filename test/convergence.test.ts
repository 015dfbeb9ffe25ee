import { describe, expect, it } from 'vitest';
import { withExtraBlock } from '../src/control/bird.js';
import { bgpSessions } from '../src/measure/converge-lab.js';
import { measurement } from '../src/cli/run-options.js';
import { loadTopology } from '../src/lab/topology.js';
import { convergenceMedians } from '../src/result/convergence.js';
import { convergenceLines } from '../src/report/convergence.js';
import type { ResultFile } from '../src/result/types.js';
import { renderTable } from '../src/report/table.js';
import { resultFixture } from './fixtures/report/result.js';

describe('convergence: pure parts', () => {
  it('medians over the runs that have each figure', () => {
    const m = convergenceMedians([
      { repeat: 1, coldStartSeconds: 1, hostLossSeconds: 0.2, routesPerHost: [2, 2] },
      { repeat: 2, coldStartSeconds: 3, routesPerHost: [2, 4, 4] },
      { repeat: 3, coldStartSeconds: 2, error: 'x' },
    ]);
    expect(m).toEqual({ coldStart: 2, newContainer: undefined, hostLoss: 0.2, rejoin: undefined, routesPerHost: 3 });
  });

  it("a further block joins BIRD's blackhole and export filter; a config without the own block is refused", () => {
    const conf =
      'filter x {\n  if net = 198.19.2.0/24 then accept;\n  reject;\n}\nprotocol static { ipv4; route 198.19.2.0/24 blackhole; }\n';
    const out = withExtraBlock(conf, '198.19.2.0/24', '198.19.3.0/24');
    expect(out).toContain('  if net = 198.19.3.0/24 then accept;');
    expect(out).toContain('route 198.19.2.0/24 blackhole; route 198.19.3.0/24 blackhole;');
    expect(() => withExtraBlock(conf, '198.19.9.0/24', '198.19.3.0/24')).toThrow(/does not hold/);
  });

  it('BGP sessions from birdc show protocols: Established ones counted, other protocols ignored', () => {
    const out = [
      'BIRD 2.0.12 ready.',
      'Name       Proto      Table      State  Since         Info',
      'kernel1    Kernel     master4    up     08:40:01.123',
      'device1    Device     ---        up     08:40:01.123',
      'Mesh_198_18_0_2 BGP        ---        up     08:40:02.456  Established',
      'Mesh_198_18_0_3 BGP        ---        start  08:40:01.123  Active        Socket: Connection refused',
      'Mesh_198_18_0_4 BGP        ---        start  08:40:01.123  Connect',
    ].join('\n');
    expect(bgpSessions(out)).toEqual({ up: 1, all: 3 });
  });

  it('--tests converge alone runs no traffic test; --full adds it; the quick default does not', () => {
    const t = loadTopology({});
    expect(measurement({ tests: 'converge' }, t)).toMatchObject({ converge: true, tests: [] });
    expect(measurement({ tests: 'tcp-1,converge' }, t).tests.map((x) => x.id)).toEqual(['tcp-1/cross', 'tcp-1/same']);
    expect(measurement({ full: true }, t).converge).toBe(true);
    expect(measurement({}, t).converge).toBe(false);
  });

  it('the terminal lines say static schemes converge on nothing', () => {
    const r = {
      schemes: [
        { name: 'bridge-l2', convergence: { mode: 'static', hosts: 2, runs: [], notes: ['static control plane: no convergence'] } },
        {
          name: 'calico',
          convergence: { mode: 'real', hosts: 2, mechanism: 'BGP full mesh', runs: [{ repeat: 1 }], median: { coldStart: 1.5 }, notes: [] },
        },
      ],
    } as unknown as ResultFile;
    const lines = convergenceLines(r);
    expect(lines[1]).toBe('  bridge-l2: static control plane: no convergence');
    expect(lines[2]).toContain('calico (BGP full mesh, 1 repeats): cold start 1.50 s');
  });

  it('a convergence-only run prints its section alone: no traffic table of empty rows', () => {
    const r = resultFixture();
    r.options.tests = [];
    r.schemes = [
      {
        ...r.schemes[0],
        name: 'calico',
        tests: [],
        convergence: { mode: 'real', hosts: 2, mechanism: 'BGP full mesh', runs: [{ repeat: 1 }], median: { coldStart: 1.5 }, notes: [] },
      } as unknown as ResultFile['schemes'][number],
    ];
    const text = renderTable(r, { columns: 120 });
    expect(text.split('\n')[0]).toMatch(/^cnlab: convergence only \(no traffic tests\); kernel /);
    expect(text).toContain('calico (BGP full mesh, 1 repeats): cold start 1.50 s');
    expect(text).not.toMatch(/[┌│]|not measured|0 tests/);
  });

  it('store loss in a cluster says which member stopped and that the others served on', () => {
    const storeLoss = {
      trafficContinued: true,
      stopped: 'etcd member ctl2 (the leader) of 3',
      newLease: 'granted 1.20 s after (the other members kept serving): lease 1 granted with TTL(30s)',
      servedAgainSeconds: 1.2,
    };
    const r = {
      schemes: [
        {
          name: 'flannel-vxlan',
          convergence: { mode: 'real', hosts: 2, mechanism: 'etcd watch (3 members)', runs: [{ repeat: 1, storeLoss }], notes: [] },
        },
      ],
    } as unknown as ResultFile;
    expect(convergenceLines(r)).toContain(
      '    store loss (etcd member ctl2 (the leader) of 3 stopped): existing traffic went on in 1/1; new lease granted 1.20 s after (the other members kept serving): lease 1 granted with TTL(30s)',
    );
  });
});
