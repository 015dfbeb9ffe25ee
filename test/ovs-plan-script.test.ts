import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, unsupportedReason } from '../src/apply/up.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { pairFor } from '../src/measure/pairs.js';
import { planLab } from '../src/plan/build.js';
import { getScheme } from '../src/schemes/registry.js';
import type { SchemeBuild } from '../src/plan/scheme.js';
import { cli, dfPing, labNamespaces, pidsIn, sh } from './helpers/lab.js';
import { argvOf, OVS_DAEMONS, ovsDaemonsUnder, removeScriptLab, tcpGbps } from './ovs-helpers.js';

/**
 * `cnlab plan <ovs scheme>` is a script a person can run: run by hand with sh in fresh
 * namespaces it starts one ovsdb-server and one ovs-vswitchd per host and builds a network that
 * carries TCP across hosts and on one host at the scheme's MTU. cnlab keeps no record of it, so
 * the test removes it by hand, as the script's header says: the processes in its namespaces
 * (exactly the daemons it started, checked by name and run directory), the namespaces, and the
 * lab directory under /run/cnlab/<lab>/ holding the OVS run directories. Lab names are this
 * file's own.
 */

const CASES: Record<string, string> = {
  ovs: 'ps-ovs',
  'ovs-normal': 'ps-ovsnormal',
  'ovs-linuxbridge': 'ps-ovslb',
  'ovs-overlay': 'ps-ovsoverlay',
};

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cnl-ovs-plan-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const cases = await Promise.all(
  Object.entries(CASES).map(async ([name, lab]) => [name, lab, await unsupportedReason(getScheme(name))] as const),
);

describe.each(cases)('cnlab plan %s, run by hand', (name, lab, unsupported) => {
  if (unsupported) {
    it.skip(`${name} is ${unsupported}`, () => {});
    return;
  }
  const dir = labStateDir(lab);
  let build: SchemeBuild;
  let hostNs: string[];
  let all: string[];

  beforeAll(async () => {
    expect(labNamespaces(lab), 'leftovers of an earlier run').toEqual([]);
    expect(existsSync(dir), `${dir} exists before the test`).toBe(false);
    const scheme = getScheme(name);
    const resolved = resolveLab(loadTopology({ lab }));
    const planned = planLab(resolved, scheme, await buildHost(scheme));
    build = planned.build;
    all = planned.plan.namespaces;
    hostNs = resolved.hosts.map((h) => h.ns);
  });

  afterAll(async () => {
    await removeScriptLab(labNamespaces(lab));
    await rm(dir, { recursive: true, force: true });
  });

  it('runs with sh, builds every namespace and starts one ovsdb-server and one ovs-vswitchd per host', async () => {
    const plan = await cli(['plan', name, '--lab', lab]);
    expect(plan.code, plan.stderr).toBe(0);
    const file = join(tmp, `${lab}.sh`);
    await writeFile(file, plan.stdout, { mode: 0o700 });
    const run = await sh('sh', [file], 60_000);
    expect(run.code, `script failed:\n${run.stderr}`).toBe(0);
    expect(labNamespaces(lab).sort()).toEqual(all.slice().sort());
    expect(existsSync(labStateFile(lab)), 'a script is not a lab: no state file').toBe(false);
    for (const ns of hostNs) {
      const names = (await pidsIn([ns])).map((pid) => basename(argvOf(pid)?.[0] ?? '?'));
      expect(names.sort(), ns).toEqual([...OVS_DAEMONS].sort());
    }
  });

  it("TCP crosses hosts and stays on one host, at the scheme's MTU", async () => {
    for (const placement of ['cross', 'same'] as const) {
      const [from, to] = pairFor(build.workloads, placement)!;
      const target = build.targetIp(from, to);
      await tcpGbps(from.ns, to.ns, target);
      expect(await dfPing(from.ns, target, build.mtu - 28), `${placement}: DF ${build.mtu - 28} B`).toBe(true);
      expect(await dfPing(from.ns, target, build.mtu - 27), `${placement}: DF ${build.mtu - 27} B`).toBe(false);
    }
  });

  it('stopping the processes in its namespaces and deleting them and its directory leaves nothing', async () => {
    const daemons = ovsDaemonsUnder(dir);
    expect(daemons).toHaveLength(2 * hostNs.length);
    expect((await pidsIn(all)).sort()).toEqual(daemons.sort());
    expect(await removeScriptLab(all)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
    expect(labNamespaces(lab)).toEqual([]);
    expect(ovsDaemonsUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
