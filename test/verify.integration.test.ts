import { describe, expect, it } from 'vitest';
import { unsupportedReason } from '../src/apply/up.js';
import { loadTopology } from '../src/lab/topology.js';
import { getScheme } from '../src/schemes/registry.js';
import { verifySchemes } from '../src/verify/engine.js';
import { PROBES } from '../src/verify/registry.js';
import { isRoot, labNamespaces } from './helpers/lab.js';

/**
 * `cnlab verify`'s probes on two real labs, one where each answer is yes and one where it is no:
 * calico (routed, plaintext, IP only) and weave-sleeve-encrypted (sealed UDP, L2: carries the
 * Ethernet frame). One build per scheme; nothing may be left behind.
 */

const calico = getScheme('calico');
const weave = getScheme('weave-sleeve-encrypted');
const unsupported = isRoot ? ((await unsupportedReason(calico, 'static')) ?? (await unsupportedReason(weave))) : 'not root';

describe.skipIf(!!unsupported)('cnlab verify on built labs', () => {
  it(
    'measures the network model, encryption, partial connectivity, protocols, vNIC and MTU, and tears down',
    { timeout: 120_000 },
    async () => {
      const lab = 'vfit';
      const v = await verifySchemes([calico, weave], PROBES, { base: loadTopology({ lab, controlPlane: 'static' }) });
      const cell = (scheme: string, aspect: string) => v.cells.find((c) => c.scheme === scheme && c.aspect === aspect)!;
      expect(v.allRan, JSON.stringify(v.cells.filter((c) => c.mark === 'not-run').map((c) => c.text))).toBe(true);
      expect(cell('calico', 'network-model')).toMatchObject({ key: 'none', agrees: true });
      expect(cell('weave-sleeve-encrypted', 'network-model').key).toBe('sealed');
      expect(cell('calico', 'encryption')).toMatchObject({ mark: 'no', key: 'plaintext' });
      expect(cell('weave-sleeve-encrypted', 'encryption')).toMatchObject({ mark: 'yes', key: 'encrypted' });
      // The tampered sealed datagram injected on the underlay: the receiver counted an auth failure.
      expect(cell('weave-sleeve-encrypted', 'encryption').detail).toMatch(/auth failures \+\d+, nothing delivered/);
      expect(cell('calico', 'encryption').evidence.data.tamper).toBeUndefined();
      expect(cell('calico', 'protocols').key).toBe('all-ip');
      expect(cell('weave-sleeve-encrypted', 'protocols').key).toBe('all');
      expect(cell('calico', 'mtu')).toMatchObject({ mark: 'yes', text: expect.stringContaining('1500') });
      expect(cell('weave-sleeve-encrypted', 'vnic').text).toMatch(/^1: eth0; .*no route, no answer$/);
      expect(cell('calico', 'vnic').text).toMatch(/^1: eth0; .*via eth0, answered$/);
      // h1↔h3 cut: the encrypted sleeve relays its sealed datagrams through h2; calico's routes do not.
      expect(cell('weave-sleeve-encrypted', 'partial-connectivity')).toMatchObject({ mark: 'yes', key: 'relayed', agrees: true });
      expect(cell('calico', 'partial-connectivity')).toMatchObject({ mark: 'no', key: 'no' });
      // Every cell carries the commands it ran.
      expect(cell('calico', 'encryption').evidence.commands.some((c) => c.argv[0] === 'tcpdump')).toBe(true);
      expect(labNamespaces(lab)).toEqual([]);
    },
  );
});
