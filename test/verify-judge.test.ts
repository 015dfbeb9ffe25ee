import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agreesWith, claimFor } from '../src/verify/claims.js';
import { encryption } from '../src/verify/probes/encryption.js';
import { mtu, type MtuData } from '../src/verify/probes/mtu.js';
import { networkModel, type WireData } from '../src/verify/probes/network-model.js';
import { protocols } from '../src/verify/probes/protocols.js';
import { vnic } from '../src/verify/probes/vnic.js';
import { classify, parseTcpdumpHex } from '../src/verify/wire.js';
import { cellShort, renderVerifyHtml, renderVerifyMarkdown, renderVerifyText } from '../src/report/verify.js';
import { probesFor } from '../src/verify/registry.js';
import type { VerifyCell, VerifySection } from '../src/result/verify.js';

// Evidence captured by `cnlab verify calico weave-sleeve-encrypted` on this box.
const EV = JSON.parse(readFileSync(new URL('./fixtures/verify/evidence.json', import.meta.url), 'utf8')) as Record<
  string,
  Record<string, never>
>;
const judge = <D>(p: { judge: (e: { commands: []; data: D }) => ReturnType<typeof networkModel.judge> }, data: D) =>
  p.judge({ commands: [], data });

describe('verify judges on captured evidence', () => {
  it('network model: calico is routed with the container as source; encrypted sleeve is opaque UDP on 6783', () => {
    const c = judge(networkModel, EV.calico['network-model']);
    expect(c.key).toBe('none');
    expect(c.text).toContain('inner source = container');
    const w = judge(networkModel, EV['weave-sleeve-encrypted']['network-model']);
    expect(w.key).toBe('sealed');
    expect(w.text).toMatch(/UDP \(port 6783\).*\+75 B/);
  });

  it('encryption: the marker is readable on calico, hidden on the encrypted sleeve', () => {
    expect(judge(encryption, EV.calico.encryption)).toMatchObject({ mark: 'no', key: 'plaintext' });
    expect(judge(encryption, EV['weave-sleeve-encrypted'].encryption)).toMatchObject({ mark: 'yes', key: 'encrypted' });
  });

  it('a capture without the datagram is not judged', () => {
    const data = { ...(EV.calico['network-model'] as unknown as WireData), capture: '' };
    expect(judge(networkModel, data).mark).toBe('not-run');
  });

  it('protocols: calico carries every IP protocol but no Ethernet frame; weave carries the frame too', () => {
    const c = judge(protocols, EV.calico.protocols);
    expect(c.key).toBe('all-ip');
    expect(c.text).toContain('not: Ethernet 0x88B5');
    expect(c.detail).toContain('SCTP');
    expect(judge(protocols, EV['weave-sleeve-encrypted'].protocols).key).toBe('all');
  });

  it('MTU: the workload MTU crosses both ways; a silent drop at that size is named a black hole', () => {
    expect(judge(mtu, EV.calico.mtu)).toMatchObject({ mark: 'yes', key: 'equal' });
    const hole: MtuData = {
      workloadMtu: 1500,
      directions: [
        {
          from: 'h1c1',
          to: 'h2c1',
          attempts: [
            { size: 100, crossed: true, told: false },
            { size: 1500, crossed: false, told: false },
            { size: 1450, crossed: true, told: false },
          ],
        },
      ],
    };
    const v = judge(mtu, hole);
    expect(v.key).toBe('black-hole');
    expect(v.text).toContain('h1c1→h2c1 1450 (black hole');
  });

  it('vNIC: one interface, or several', () => {
    expect(judge(vnic, EV.calico.vnic)).toMatchObject({ key: 'one', text: '1: eth0' });
    const two = JSON.stringify([{ ifname: 'lo' }, { ifname: 'eth0' }, { ifname: 'eth1' }]);
    expect(judge(vnic, { links: two })).toMatchObject({ key: 'several', text: '2: eth0, eth1' });
  });

  it('vNIC: docker-overlay leaves the overlay through eth1 and gets an answer; weave-sleeve has no way out', () => {
    expect(judge(vnic, EV['docker-overlay'].vnic)).toMatchObject({
      key: 'several',
      text: '2: eth0, eth1; to 198.18.0.2 (another host): via eth1, answered',
    });
    expect(judge(vnic, EV['weave-sleeve'].vnic).text).toBe('1: eth0; to 198.18.0.2 (another host): no route, no answer');
  });
});

describe('wire classification', () => {
  it('reads a VXLAN frame: port, VNI, overhead and the inner source', () => {
    const inner = [0x45, 0, 0, 61, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 19, 1, 2, 198, 19, 2, 2, ...new Array<number>(41).fill(0x61)];
    const innerEth = [...new Array<number>(12).fill(2), 0x08, 0x00, ...inner];
    const vx = [0x08, 0, 0, 0, 0, 0, 1, 0, ...innerEth];
    const udp = [0x9c, 0x40, 0x21, 0x18, 0, vx.length + 8, 0, 0, ...vx];
    const tot = 20 + udp.length;
    const outer = [0x45, 0, tot >> 8, tot & 255, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2, ...udp];
    const frame = [...new Array<number>(12).fill(1), 0x08, 0x00, ...outer];
    const hex = Buffer.from(frame).toString('hex');
    const lines = hex.match(/.{1,32}/g)!.map((l, i) => `\t0x${(i * 16).toString(16).padStart(4, '0')}:  ${l.match(/.{1,4}/g)!.join(' ')}`);
    const frames = parseTcpdumpHex(`03:00:00.000000 IP 198.18.0.1.40000 > 198.18.0.2.8472: OTV\n${lines.join('\n')}\n`);
    const c = classify(frames, { src: '198.19.1.2', dst: '198.19.2.2', hostSrc: '198.18.0.1', innerLen: 61 });
    expect(c).toMatchObject({ kind: 'vxlan', port: 8472, vni: 1, overhead: 50, innerSourceIsContainer: true });
  });
});

describe('claims and the matrix', () => {
  it("compares a verdict with the product's claim", () => {
    expect(claimFor('flannel-vxlan', 'network-model')?.product).toBe('flannel');
    expect(agreesWith(claimFor('calico', 'network-model'), 'none')).toBe(true);
    expect(agreesWith(claimFor('calico', 'network-model'), 'vxlan')).toBe(false);
    expect(claimFor('bridge-l2', 'network-model')).toBeUndefined();
  });

  it('renders cells with claim agreement and escaped evidence', () => {
    const v: VerifySection = {
      schemes: ['calico'],
      aspects: ['network-model'],
      allRan: true,
      cells: [
        {
          aspect: 'network-model',
          scheme: 'calico',
          probe: 'wire',
          mark: 'value',
          key: 'vxlan',
          text: 'VXLAN <b>',
          claim: claimFor('calico', 'network-model'),
          agrees: false,
          seconds: 1,
          evidence: {
            commands: [{ node: 'h1', argv: ['tcpdump', '-i', 'eth0'], code: 0, stdout: '<script>x</script>', stderr: '' }],
            data: {},
          },
        },
      ],
    };
    const html = renderVerifyHtml(v);
    expect(html).toContain('<details><summary>evidence (1 commands)');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script>x');
    expect(html).toContain('disagrees');
    const md = renderVerifyMarkdown(v);
    expect(md).toContain('| network-model | VXLAN &lt;b&gt; [DISAGREES with claim] |');
    const text = renderVerifyText(v);
    expect(text).toMatch(/│ network-model +│ vxlan ≠claim +│/);
    expect(text).toContain('VXLAN <b> [DISAGREES with claim]');
  });

  it('the terminal grid marks stand-ins, agreement and probes that did not run', () => {
    const cell = (over: Partial<VerifyCell>): VerifyCell => ({
      aspect: 'name-service',
      scheme: 'weave-sleeve',
      probe: 'dns',
      mark: 'yes',
      key: 'dns',
      text: 'DNS',
      seconds: 1,
      evidence: { commands: [], data: {} },
      ...over,
    });
    expect(cellShort(cell({ standIns: ['dnsmasq stands in for weaveDNS'], agrees: true }))).toBe('✓ dns* =claim');
    expect(cellShort(cell({ mark: 'not-run', text: 'not run: needs tcpdump' }))).toBe('not run');
    expect(cellShort(undefined)).toBe('—');
  });
});

describe('--aspects', () => {
  it('selects probes in matrix order and refuses an unknown aspect, listing the valid ones', () => {
    expect(probesFor('mtu, protocols').map((p) => p.aspect)).toEqual(['protocols', 'mtu']);
    expect(() => probesFor('mtu,bogus')).toThrow(/unknown aspect bogus; valid: network-model, encryption/);
    expect(() => probesFor(',')).toThrow(/empty list/);
  });
});
