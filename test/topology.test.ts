import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { addrAt, contains, containsIp, intToIp, ipToInt, maskOf, overlaps, parseCidr, subnetAt } from '../src/lab/ipv4.js';
import { checkAddressPlan, DEFAULT_TOPOLOGY, loadTopology, normaliseRate } from '../src/lab/topology.js';
import type { Cidr, Topology } from '../src/lab/types.js';

const dir = mkdtempSync(join(tmpdir(), 'cnl-topology-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function yamlFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const FULL_YAML = `lab: fromfile
hosts: 3
containersPerHost: 2
sameHost: false
underlay:
  cidr: 198.18.4.0/24
  mtu: 9000
  rate: 10G
pods:
  cidr: 198.19.0.0/16
  blockPrefix: 26
`;

describe('loadTopology', () => {
  it('no file and no flags gives the defaults', () => {
    expect(loadTopology({})).toEqual(DEFAULT_TOPOLOGY);
    expect(DEFAULT_TOPOLOGY).toMatchObject({ lab: 'run', hosts: 2, containersPerHost: 1, sameHost: true, allowAddresses: false });
  });

  it('reads every value of a YAML file and normalises its rate', () => {
    expect(loadTopology({ topology: yamlFile('full.yaml', FULL_YAML) })).toEqual({
      lab: 'fromfile',
      hosts: 3,
      containersPerHost: 2,
      sameHost: false,
      underlay: { cidr: '198.18.4.0/24', mtu: 9000, rate: '10gbit' },
      pods: { cidr: '198.19.0.0/16', blockPrefix: 26 },
      allowAddresses: false,
    });
  });

  it('flags override the file, value by value', () => {
    const t = loadTopology({
      topology: yamlFile('full2.yaml', FULL_YAML),
      lab: 'fromflags',
      hosts: '4',
      containers: '5',
      underlay: '198.18.8.0/24',
      mtu: '1400',
      linkRate: '500m',
      podBlock: '25',
    });
    expect(t).toEqual({
      lab: 'fromflags',
      hosts: 4,
      containersPerHost: 5,
      sameHost: false,
      underlay: { cidr: '198.18.8.0/24', mtu: 1400, rate: '500mbit' },
      pods: { cidr: '198.19.0.0/16', blockPrefix: 25 },
      allowAddresses: false,
    });
  });

  it('a partial file keeps the defaults for what it leaves out', () => {
    const t = loadTopology({ topology: yamlFile('partial.yaml', 'underlay:\n  mtu: 1400\npods:\n  blockPrefix: 25\n'), sameHost: false });
    expect(t.underlay).toEqual({ cidr: '198.18.0.0/24', mtu: 1400 });
    expect(t.pods).toEqual({ cidr: '198.19.0.0/16', blockPrefix: 25 });
    expect(t.sameHost).toBe(false);
    expect(t.hosts).toBe(2);
  });

  it('an empty file is the defaults', () => {
    expect(loadTopology({ topology: yamlFile('empty.yaml', '') })).toEqual(DEFAULT_TOPOLOGY);
  });

  it.each([
    [{ hosts: '2.5' }, /hosts must be number, got string/],
    [{ hosts: '251' }, /hosts must be at most 250/],
    [{ mtu: '9001' }, /underlay\.mtu must be at most 9000/],
    [{ podBlock: '30' }, /pods\.blockPrefix must be at most 29/],
    [{ underlay: '198.18.0.0/33' }, /underlay\.cidr must be an IPv4 CIDR/],
    [{ linkRate: 'fast' }, /underlay\.rate must be a rate/],
    [{ lab: 'a-' }, /lab must be 1-16 lowercase/],
    [{ lab: 'abcdefghijklmnopq' }, /lab must be 1-16 lowercase/],
  ])('rejects %o with one InputError', (flags, message) => {
    expect(() => loadTopology(flags)).toThrow(InputError);
    expect(() => loadTopology(flags)).toThrow(message);
  });
});

describe('normaliseRate', () => {
  it.each([
    ['10G', '10gbit'],
    ['1gbit', '1gbit'],
    ['500m', '500mbit'],
    ['500mbit', '500mbit'],
    ['1.5 Gbit', '1.5gbit'],
    ['100k', '100kbit'],
    ['2T', '2tbit'],
    ['100', '100bit'],
    [' 1g ', '1gbit'],
  ])('%j → %s', (input, want) => expect(normaliseRate(input)).toBe(want));

  it.each(['fast', '', '1 gigabit', '-1g', '1gb'])('rejects %j', (input) => expect(() => normaliseRate(input)).toThrow(InputError));
});

describe('checkAddressPlan', () => {
  const t = (over: Partial<Topology> & { u?: string; p?: string; block?: number }): Topology => ({
    ...DEFAULT_TOPOLOGY,
    ...over,
    underlay: { ...DEFAULT_TOPOLOGY.underlay, cidr: over.u ?? DEFAULT_TOPOLOGY.underlay.cidr },
    pods: { cidr: over.p ?? DEFAULT_TOPOLOGY.pods.cidr, blockPrefix: over.block ?? DEFAULT_TOPOLOGY.pods.blockPrefix },
  });

  it.each([
    ['a /30 underlay holds two hosts', t({ u: '198.18.0.0/30' })],
    ['the top /24 of the benchmark range', t({ u: '198.19.255.0/24', p: '198.18.0.0/16' })],
    ['outside the range with allowAddresses', t({ u: '192.0.2.0/24', p: '10.0.0.0/16', allowAddresses: true })],
    ['hosts = pod blocks - 1', t({ p: '198.19.0.0/22', hosts: 3 })],
    ['containers exactly filling a /28 block', t({ block: 28, containersPerHost: 12 })],
    ['the same without the same-host peer', t({ block: 28, containersPerHost: 13, sameHost: false })],
  ])('accepts %s', (_, topo) => expect(() => checkAddressPlan(topo, 'src')).not.toThrow());

  it.each([
    ['a /31 underlay', t({ u: '198.18.0.0/31' }), /src: 2 hosts do not fit the underlay 198\.18\.0\.0\/31 \(0 addresses\)/],
    ['just past the range', t({ u: '198.20.0.0/24' }), /underlay 198\.20\.0\.0\/24 is outside the benchmark range/],
    ['a range larger than the benchmark range', t({ u: '198.16.0.0/14' }), /outside the benchmark range/],
    ['a pod network outside', t({ p: '10.0.0.0/16' }), /src: pod network 10\.0\.0\.0\/16 is outside/],
    ['pods inside the underlay', t({ u: '198.18.0.0/15', p: '198.19.0.0/16' }), /underlay 198\.18\.0\.0\/15 overlaps the pod network/],
    ['underlay inside the pods', t({ u: '198.19.3.0/24' }), /overlaps the pod network 198\.19\.0\.0\/16/],
    [
      'a block larger than the pods',
      t({ p: '198.19.0.0/24', block: 16 }),
      /pod block \/16 is larger than the pod network 198\.19\.0\.0\/24/,
    ],
    ['hosts = pod blocks', t({ p: '198.19.0.0/22', hosts: 4 }), /4 hosts need 4 pod blocks of \/24, 198\.19\.0\.0\/22 has 3/],
    [
      'one container too many',
      t({ block: 28, containersPerHost: 13 }),
      /14 containers on a host do not fit a \/28 pod block \(13 addresses\)/,
    ],
  ])('rejects %s', (_, topo, message) => {
    expect(() => checkAddressPlan(topo, 'src')).toThrow(InputError);
    expect(() => checkAddressPlan(topo, 'src')).toThrow(message);
  });
});

describe('ipv4 helpers', () => {
  const c = (text: string): Cidr => parseCidr(text)!;

  it.each([
    ['198.18.1.7/24', '198.18.1.0', 24],
    [' 10.1.2.3/8 ', '10.0.0.0', 8],
    ['200.1.2.3/1', '128.0.0.0', 1],
    ['255.255.255.255/32', '255.255.255.255', 32],
    ['255.255.255.255/0', '0.0.0.0', 0],
    ['198.19.255.254/15', '198.18.0.0', 15],
  ])('parseCidr(%j) normalises to %s/%i', (text, network, prefix) => expect(parseCidr(text)).toEqual({ network, prefix }));

  it.each(['1.2.3.4/33', '1.2.3/24', '256.1.1.1/8', 'a.b.c.d/8', '1.2.3.4', '1.2.3.4/', '1.2.3.4/024', '::1/128'])(
    'parseCidr(%j) is null',
    (text) => expect(parseCidr(text)).toBeNull(),
  );

  it('ipToInt / intToIp / maskOf stay unsigned', () => {
    expect(ipToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipToInt('128.0.0.0')).toBe(0x80000000);
    expect(intToIp(0xfffffffe)).toBe('255.255.255.254');
    expect(intToIp(ipToInt('198.19.200.7'))).toBe('198.19.200.7');
    expect([maskOf(0), maskOf(1), maskOf(15), maskOf(32)]).toEqual([0, 0x80000000, 0xfffe0000, 0xffffffff]);
  });

  it.each([
    ['198.18.0.0/15', '198.19.255.0/24', true],
    ['198.18.0.0/15', '198.20.0.0/24', false],
    ['198.18.0.0/15', '198.17.255.0/24', false],
    ['128.0.0.0/1', '255.255.255.255/32', true],
    ['128.0.0.0/1', '127.255.255.255/32', false],
    ['0.0.0.0/0', '200.0.0.0/8', true],
    ['224.0.0.0/4', '239.1.0.0/16', true],
    ['240.0.0.0/4', '239.1.0.0/16', false],
    ['10.0.0.0/8', '200.0.0.0/8', false],
    ['198.19.1.0/24', '198.19.0.0/16', false],
    ['203.0.113.0/24', '203.0.113.0/24', true],
  ])('contains(%s, %s) is %s', (outer, inner, want) => {
    expect(contains(c(outer), c(inner))).toBe(want);
    expect(overlaps(c(outer), c(inner))).toBe(want || contains(c(inner), c(outer)));
    expect(overlaps(c(inner), c(outer))).toBe(overlaps(c(outer), c(inner)));
  });

  it('overlaps: neighbours above 128.0.0.0 do not overlap, nested ones do', () => {
    expect(overlaps(c('192.168.0.0/16'), c('192.169.0.0/16'))).toBe(false);
    expect(overlaps(c('198.19.0.0/16'), c('198.18.0.0/15'))).toBe(true);
    expect(containsIp(c('198.18.0.0/15'), '198.19.255.255')).toBe(true);
    expect(containsIp(c('198.18.0.0/15'), '198.20.0.0')).toBe(false);
  });

  it('subnetAt counts blocks from the network address', () => {
    expect(subnetAt(c('198.19.0.0/16'), 24, 0)).toEqual({ network: '198.19.0.0', prefix: 24 });
    expect(subnetAt(c('198.19.0.0/16'), 24, 255)).toEqual({ network: '198.19.255.0', prefix: 24 });
    expect(subnetAt(c('198.19.0.0/16'), 26, 5)).toEqual({ network: '198.19.1.64', prefix: 26 });
    expect(subnetAt(c('224.0.0.0/4'), 8, 15)).toEqual({ network: '239.0.0.0', prefix: 8 });
    expect(subnetAt(c('198.19.0.0/16'), 16, 0)).toEqual({ network: '198.19.0.0', prefix: 16 });
    for (const [prefix, n] of [
      [24, 256],
      [24, -1],
      [8, 0],
    ])
      expect(() => subnetAt(c('198.19.0.0/16'), prefix, n)).toThrow(RangeError);
  });

  it('addrAt stays inside the block', () => {
    expect(addrAt(c('198.18.0.0/24'), 1)).toBe('198.18.0.1');
    expect(addrAt(c('198.18.0.0/24'), 255)).toBe('198.18.0.255');
    expect(addrAt(c('198.18.0.0/15'), 256)).toBe('198.18.1.0');
    expect(addrAt(c('255.255.255.0/24'), 255)).toBe('255.255.255.255');
    for (const n of [256, -1]) expect(() => addrAt(c('198.18.0.0/24'), n)).toThrow(RangeError);
  });
});
