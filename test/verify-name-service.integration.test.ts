import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { labStateDir } from '../src/lab/paths.js';
import { loadTopology } from '../src/lab/topology.js';
import { calico } from '../src/schemes/calico.js';
import { weaveSleeve } from '../src/schemes/weave-sleeve.js';
import { verifySchemes } from '../src/verify/engine.js';
import { nameService } from '../src/verify/probes/name-service.js';
import { isRoot, labNamespaces, sh } from './helpers/lab.js';

/**
 * The name-service probe on two real labs: weave-sleeve, where cnlab builds weaveDNS's stand-in
 * (dnsmasq per host on the weave bridge) and the peer resolves by both of its names, and calico,
 * which has none: the lookup is made and fails. Nothing is left: no namespace, no dnsmasq, no
 * /etc/netns files.
 */

const hasDnsmasq = existsSync('/usr/sbin/dnsmasq');
const unsupported = !isRoot
  ? 'not root'
  : !hasDnsmasq
    ? 'needs dnsmasq-base'
    : ((await unsupportedReason(calico, 'static')) ?? (await unsupportedReason(weaveSleeve)));

const netnsEtc = (lab: string) => (existsSync('/etc/netns') ? readdirSync('/etc/netns').filter((n) => n.startsWith(`cnl-${lab}-`)) : []);

describe.skipIf(!!unsupported)('name-service probe on built labs', () => {
  it('weave resolves {hostname}.weave.local and {hostname}; calico has no name service; nothing left', { timeout: 30_000 }, async () => {
    const lab = 'vnd';
    const v = await verifySchemes([weaveSleeve, calico], [nameService], { base: loadTopology({ lab, controlPlane: 'static' }) });
    const cell = (scheme: string) => v.cells.find((c) => c.scheme === scheme)!;
    const weave = cell('weave-sleeve');
    expect(weave, JSON.stringify(weave.evidence)).toMatchObject({ mark: 'yes', key: 'dns', agrees: true });
    expect(weave.text).toContain('h2c1.weave.local, h2c1');
    expect(weave.standIns?.[0]).toMatch(/^dnsmasq stands in for weaveDNS/);
    // The servers ran (their log is evidence) and the lookups went through `ip netns exec`.
    expect(weave.evidence.commands.filter((c) => c.argv[0] === 'dnsmasq').map((c) => c.stderr)).toEqual([
      expect.stringContaining('read '),
      expect.stringContaining('read '),
    ]);
    expect(cell('calico')).toMatchObject({ mark: 'no', key: 'none', agrees: true });
    const tried = cell('calico').evidence.commands.filter((c) => c.argv.includes('getent'));
    expect(tried.length).toBeGreaterThan(0);
    expect(tried.every((c) => c.code === 2)).toBe(true);
    expect(labNamespaces(lab)).toEqual([]);
    expect(netnsEtc(lab)).toEqual([]);
    expect((await sh('pgrep', ['-f', join(labStateDir(lab), 'dns', 'hosts')])).stdout).toBe('');
  });
});
