import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, unsupportedReason, type UpLab } from '../src/apply/up.js';
import { labStateDir, labStateFile } from '../src/lab/paths.js';
import { resolveLab } from '../src/lab/resolve.js';
import { loadTopology } from '../src/lab/topology.js';
import { pairFor } from '../src/measure/pairs.js';
import { planLab } from '../src/plan/build.js';
import { OVS_REQUIRES } from '../src/schemes/parts/ovs.js';
import type { Scheme, SchemeBuild, Workload } from '../src/plan/scheme.js';
import { APPROXIMATION_NOTE, weaveBuild, weaveFastdp, weaveVni } from '../src/schemes/weave-fastdp.js';
import { cli, dfPing, labNamespaces, pidGone, pidsIn, sh, useLab } from './helpers/lab.js';
import { flowPackets, ovsDaemonsUnder, removeScriptLab, tcpGbps } from './ovs-helpers.js';

/**
 * weave-fastdp for real: as cnlab builds it here (without the openvswitch module: the labelled
 * kernel-vxlan approximation), the OVS layout with Weave's learning flows on OVS's userspace
 * datapath (the flows the kernel-datapath variant loads, exercised where that datapath is
 * missing), and its `cnlab plan` script run by hand. Each: TCP across hosts and on one host, the
 * 1376-byte MTU, nothing left behind.
 */

const ipOut = async (ns: string, ...args: string[]) => (await sh('ip', ['-n', ns, ...args])).stdout;

/** Build a lab from a scheme, check TCP and MTU on both paths, tear it down checking for leftovers. */
function labSuite(title: string, lab: string, scheme: Scheme, extra: (get: () => UpLab) => void): void {
  describe(title, () => {
    const built = useLab(lab, scheme);
    const pair = (p: 'cross' | 'same'): [Workload, Workload] => pairFor(built.up.build.workloads, p)!;

    it('TCP crosses hosts and stays on one host; DF ping at the MTU passes, one byte more fails', async () => {
      expect(built.up.build.mtu).toBe(1376);
      for (const placement of ['cross', 'same'] as const) {
        const [from, to] = pair(placement);
        const target = built.up.build.targetIp(from, to);
        await tcpGbps(from.ns, to.ns, target);
        expect(await dfPing(from.ns, target, 1376 - 28), `${placement}: DF 1348 B`).toBe(true);
        expect(await dfPing(from.ns, target, 1376 - 27), `${placement}: DF 1349 B`).toBe(false);
      }
    });

    extra(() => built.up);

    it('teardown leaves no namespace, no process, no OVS daemon, no state', async () => {
      const pids = built.up.state.processes.map((p) => p.pid);
      const report = await built.remove();
      expect(report?.problems).toEqual([]);
      expect(labNamespaces(lab)).toEqual([]);
      expect(pids.filter((p) => !pidGone(p))).toEqual([]);
      expect(ovsDaemonsUnder(labStateDir(lab))).toEqual([]);
      expect(existsSync(labStateFile(lab))).toBe(false);
      expect(existsSync(labStateDir(lab))).toBe(false);
    });
  });
}

const unsupported = await unsupportedReason(weaveFastdp);
const preferred = (await buildHost(weaveFastdp)).preferred;

describe.skipIf(!!unsupported || preferred)(`weave-fastdp without the OVS kernel datapath ${unsupported ?? ''}`, () => {
  labSuite('the approximation, built by cnlab', 'io-weave', weaveFastdp, (get) => {
    it('is labelled an approximation and lays out weave → vethwe pair → datapath → vxlan-6784 (UDP 6784)', async () => {
      const up = get();
      expect(up.build.notes).toContain(APPROXIMATION_NOTE);
      expect(up.state.processes).toEqual([]);
      const h1 = up.lab.hosts[0].ns;
      expect(await ipOut(h1, '-d', 'link', 'show', 'vxlan-6784')).toMatch(
        /master datapath .*\n[\s\S]*vxlan id 1 local 198\.18\.0\.1 dev eth0 .*dstport 6784/,
      );
      expect(await ipOut(h1, 'link', 'show', 'vethwe-bridge')).toMatch(/mtu 1376 .*master weave/);
      expect(await ipOut(h1, 'link', 'show', 'vethwe-datapath')).toMatch(/mtu 1376 .*master datapath/);
      expect(await ipOut(up.build.workloads[0].ns, 'link', 'show', 'eth0')).toMatch(/mtu 1376/);
    });
  });
});

// The kernel-datapath layout, with OVS on its userspace datapath: the same ports and flows.
const ovsMissing = await unsupportedReason({ ...weaveFastdp, requires: [...weaveFastdp.requires, ...OVS_REQUIRES] });
const weaveOnOvs: Scheme = {
  ...weaveFastdp,
  requires: [...weaveFastdp.requires, ...OVS_REQUIRES],
  build: (lab) => weaveBuild(lab, 'netdev'),
};

describe.skipIf(!!ovsMissing)(`Weave's OVS layout and learning flows on the userspace datapath ${ovsMissing ?? ''}`, () => {
  labSuite('built by cnlab', 'io-weaveodp', weaveOnOvs, (get) => {
    it("learns each remote MAC from the tunnel with Weave's VNI (dst << 12 | src) and floods the rest to every peer", async () => {
      const up = get();
      const h1 = up.lab.hosts[0];
      const run = join(labStateDir(up.lab.name), 'ovs-h1');
      const h2c1 = up.build.workloads.find((w) => w.hostIndex === 2)!;
      const mac = /link\/ether (\S+)/.exec(await ipOut(h2c1.ns, 'link', 'show', 'eth0'))![1];
      const reply = weaveVni(1, 2);
      expect(reply).toBe(0x2001);
      // learned from h2c1's frames: back to h2 with VNI halves swapped (dst 2, src 1)
      const learned = new RegExp(
        `table=1, .*dl_dst=${mac} actions=load:0x[0-9a-f]+->NXM_NX_TUN_IPV4_DST\\[\\],load:0x2->NXM_NX_TUN_ID\\[12\\.\\.23\\],load:0x1->NXM_NX_TUN_ID\\[0\\.\\.11\\]`,
      );
      expect(await flowPackets(h1.ns, run, 'datapath', learned), 'learned flow carried h1c1 → h2c1').toBeGreaterThan(0);
      const flood = new RegExp(
        `table=1, .*priority=0 actions=load:0x[0-9a-f]+->NXM_NX_TUN_IPV4_DST\\[\\],load:0x${reply.toString(16)}->NXM_NX_TUN_ID\\[\\]`,
      );
      expect(await flowPackets(h1.ns, run, 'datapath', flood), 'broadcast went to the peer').toBeGreaterThan(0);
    });
  });
});

describe.skipIf(!!unsupported)('cnlab plan weave-fastdp, run by hand', () => {
  const lab = 'ps-weave';
  let tmp: string;
  let build: SchemeBuild;
  let all: string[];
  beforeAll(async () => {
    expect(labNamespaces(lab)).toEqual([]);
    tmp = await mkdtemp(join(tmpdir(), 'cnl-weave-plan-'));
    const planned = planLab(resolveLab(loadTopology({ lab })), weaveFastdp, await buildHost(weaveFastdp));
    build = planned.build;
    all = planned.plan.namespaces;
  });
  afterAll(async () => {
    await removeScriptLab(labNamespaces(lab));
    await rm(labStateDir(lab), { recursive: true, force: true });
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('runs with sh and builds every namespace', async () => {
    const plan = await cli(['plan', 'weave-fastdp', '--lab', lab]);
    expect(plan.code, plan.stderr).toBe(0);
    const file = join(tmp, 'plan.sh');
    await writeFile(file, plan.stdout, { mode: 0o700 });
    const run = await sh('sh', [file], 60_000);
    expect(run.code, `script failed:\n${run.stderr}`).toBe(0);
    expect(labNamespaces(lab).sort()).toEqual(all.slice().sort());
  });

  it('TCP crosses hosts and stays on one host, at MTU 1376', async () => {
    for (const placement of ['cross', 'same'] as const) {
      const [from, to] = pairFor(build.workloads, placement)!;
      const target = build.targetIp(from, to);
      await tcpGbps(from.ns, to.ns, target);
      expect(await dfPing(from.ns, target, build.mtu - 28)).toBe(true);
      expect(await dfPing(from.ns, target, build.mtu - 27)).toBe(false);
    }
  });

  it('removing it by hand leaves nothing', async () => {
    const left = await pidsIn(all);
    // Without the OVS kernel datapath the script starts no process; with it, the OVS daemons.
    expect(left.length).toBe(preferred ? 2 * 2 : 0);
    expect(await removeScriptLab(all)).toEqual([]);
    await rm(labStateDir(lab), { recursive: true, force: true });
    expect(labNamespaces(lab)).toEqual([]);
    expect(ovsDaemonsUnder(labStateDir(lab))).toEqual([]);
  });
});
