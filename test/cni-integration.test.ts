import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConflist } from '../src/cni/conflist.js';
import { cniShell } from '../src/cni/render.js';
import { cniAdd, cniDel, containerAddress, parseResult, type CniInvocation, type CniResult } from '../src/cni/runtime.js';
import type { CniConfList } from '../src/cni/types.js';
import { execArgs, execOk } from '../src/util/exec.js';
import { addNs, delNs, listNs, pingFrom } from './fixtures/cni/netns.js';

/**
 * The real 1.1.1 reference plugins: bridge + host-local IPAM, chained with bandwidth, run in a
 * "host" namespace and attaching a "container" namespace, both created (and deleted) here.
 * Addresses: 198.19.1.0/24 only. host-local keeps its state in a temp dir, never /var/lib/cni.
 */

const H1 = 'cnl-itest-cni-h1';
const C1 = 'cnl-itest-cni-c1';
const C1_PATH = `/run/netns/${C1}`;
const bandwidth = { ingressRate: 10_000_000, ingressBurst: 1_000_000, egressRate: 10_000_000, egressBurst: 1_000_000 };

let dataDir: string;
let list: CniConfList;

function bridgeOnly(): CniConfList {
  return { ...list, plugins: [list.plugins[0]!] };
}

const ipOut = async (ns: string, ...args: string[]) => (await execArgs('ip', ['-n', ns, ...args])).stdout;

/** host-local's allocation files for our network (one per leased address). */
async function leases(): Promise<string[]> {
  const files = await readdir(join(dataDir, list.name)).catch(() => [] as string[]);
  return files.filter((f) => f.startsWith('198.19.'));
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cnl-cni-hostlocal-'));
  const conf = {
    cniVersion: '1.0.0',
    name: 'cnl-itest-net',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        ipam: {
          type: 'host-local',
          dataDir,
          ranges: [[{ subnet: '198.19.1.0/24', gateway: '198.19.1.1' }]],
          routes: [{ dst: '198.18.0.0/15' }],
        },
      },
      { type: 'bandwidth', capabilities: { bandwidth: true } },
    ],
  };
  list = parseConflist(JSON.stringify(conf), 'itest.conflist');
  await addNs(H1);
  await addNs(C1);
});

afterAll(async () => {
  await delNs(C1, H1);
  await rm(dataDir, { recursive: true, force: true });
});

describe('real bridge + host-local + bandwidth', () => {
  const inv = (over: Partial<CniInvocation> = {}): CniInvocation => ({
    conflist: list,
    containerId: 'itest-ctr-1',
    netnsPath: C1_PATH,
    ifName: 'eth0',
    hostNs: H1,
    runtimeConfig: { bandwidth },
    source: 'itest.conflist',
    ...over,
  });
  let added: CniResult;

  it('ADD attaches the container with 198.19.1.2/24 on eth0', async () => {
    added = await cniAdd(inv());
    expect(containerAddress(added, 'eth0')).toBe('198.19.1.2');
    expect(added.ips?.[0]).toMatchObject({ address: '198.19.1.2/24', gateway: '198.19.1.1' });
    expect(await ipOut(C1, '-4', 'addr', 'show', 'dev', 'eth0')).toContain('inet 198.19.1.2/24');
    expect(await ipOut(H1, '-4', 'addr', 'show', 'dev', 'cni0')).toContain('inet 198.19.1.1/24');
    expect(await leases()).toEqual(['198.19.1.2']);
  });

  it('the container pings its gateway', async () => {
    const ping = await pingFrom(C1, '198.19.1.1');
    expect(ping.ok, ping.output).toBe(true);
  });

  it('the ping check fails for an address nobody has', async () => {
    expect((await pingFrom(C1, '198.19.1.200')).ok).toBe(false);
  });

  it('bandwidth put tbf qdiscs in the host namespace', async () => {
    const qdiscs = (await execOk('tc', ['-n', H1, 'qdisc', 'show'])).stdout;
    expect(qdiscs).toMatch(/qdisc tbf /);
  });

  it('DEL removes eth0 and releases the address', async () => {
    await cniDel(inv({ prevResult: added }));
    const link = await execArgs('ip', ['-n', C1, 'link', 'show', 'dev', 'eth0']);
    expect(link.code).not.toBe(0);
    expect(await leases()).toEqual([]);
    expect((await execOk('tc', ['-n', H1, 'qdisc', 'show'])).stdout).not.toMatch(/qdisc tbf /);
  });

  it('a DEL repeated after the container namespace is gone still succeeds', async () => {
    await cniDel(inv({ prevResult: added, netnsPath: '/run/netns/cnl-itest-cni-gone' }));
  });

  it('the rendered shell does the same ADD for a single bridge plugin', async () => {
    const step = {
      kind: 'cni' as const,
      ns: H1,
      containerNs: C1,
      containerId: 'itest-render',
      ifName: 'eth0',
      conflist: bridgeOnly(),
    };
    const lines = cniShell(step);
    expect(lines).toHaveLength(1);
    const res = await execArgs('bash', ['-c', `set -e\n${lines.join('\n')}`]);
    expect(res.code, res.stderr || res.stdout).toBe(0);
    const result = parseResult(res.stdout);
    const addr = containerAddress(result, 'eth0');
    expect(addr).toMatch(/^198\.19\.1\.\d+$/);
    expect(await ipOut(C1, '-4', 'addr', 'show', 'dev', 'eth0')).toContain(`inet ${addr}/24`);
    const ping = await pingFrom(C1, '198.19.1.1');
    expect(ping.ok, ping.output).toBe(true);
    await cniDel({ ...inv({ containerId: 'itest-render', conflist: bridgeOnly(), prevResult: result }) });
    expect((await execArgs('ip', ['-n', C1, 'link', 'show', 'dev', 'eth0'])).code).not.toBe(0);
    expect(await leases()).toEqual([]);
  });

  it('the 1.1.1 plugins refuse a cniVersion 1.1.0 config with a clear error', async () => {
    const newer = { ...bridgeOnly(), cniVersion: '1.1.0' };
    await expect(cniAdd(inv({ containerId: 'itest-110', conflist: newer }))).rejects.toThrow(
      /^CNI plugin bridge failed \(code 1\): incompatible CNI versions: config is "1\.1\.0", plugin supports \[.*"1\.0\.0"\]$/,
    );
    expect((await execArgs('ip', ['-n', C1, 'link', 'show', 'dev', 'eth0'])).code).not.toBe(0);
  });

  it('deleting the namespaces leaves none of ours', async () => {
    await delNs(C1, H1);
    const left = await listNs();
    expect(left).not.toContain(H1);
    expect(left).not.toContain(C1);
  });
});
