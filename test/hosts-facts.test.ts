import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prepareArgvs } from '../src/remote/check.js';
import {
  aptLine,
  parseCpuinfo,
  parseEthtoolDriver,
  parseEthtoolFeatures,
  parseSpeed,
  parseToolPaths,
  routeDevice,
  sshClientAddress,
  toolNeeds,
} from '../src/remote/facts.js';

/** Parsers behind `cnlab hosts check`, on captured output. */

const fixture = (name: string) => readFileSync(new URL(`./fixtures/hosts/${name}`, import.meta.url), 'utf8');

describe('hosts check parsers', () => {
  it('ethtool -k: top-level and indented features, fixed noted', () => {
    const f = parseEthtoolFeatures(fixture('ethtool-k-lo.txt'));
    expect(f['generic-segmentation-offload']).toBe('on');
    expect(f['large-receive-offload']).toBe('off (fixed)');
    expect(f['tx-udp_tnl-segmentation']).toBe('off (fixed)');
    expect(f['tx-tcp-segmentation']).toBe('on');
    expect(f['Features for lo']).toBeUndefined();
  });

  it('ethtool -i: driver, version, firmware, bus', () => {
    expect(parseEthtoolDriver(fixture('ethtool-i-mlx5.txt'))).toEqual({
      driver: 'mlx5_core',
      version: '6.1.0-18-amd64',
      firmware: '16.35.2000 (MT_0000000080)',
      bus: '0000:3b:00.1',
    });
    expect(parseEthtoolDriver('driver: veth\nversion: 1.0\nfirmware-version: \nbus-info: \n')).toEqual({
      driver: 'veth',
      version: '1.0',
      firmware: undefined,
      bus: undefined,
    });
  });

  it('cpuinfo: x86 model name, or unknown on ARM, and the processor count', () => {
    expect(parseCpuinfo('processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n')).toEqual({
      model: 'AMD EPYC',
      count: 2,
    });
    expect(parseCpuinfo(fixture('cpuinfo-arm.txt'))).toEqual({ model: 'unknown', count: 2 });
  });

  it('speed: Mbit/s, or null for none (-1) and garbage', () => {
    expect(parseSpeed('10000\n')).toBe(10000);
    expect(parseSpeed('-1\n')).toBeNull();
    expect(parseSpeed('')).toBeNull();
  });

  it('the SSH route: client address from SSH_CONNECTION, device from ip -j route get', () => {
    expect(sshClientAddress('198.18.250.1 51234 198.18.250.2 22\n')).toBe('198.18.250.1');
    expect(sshClientAddress('')).toBeNull();
    expect(routeDevice('[{"dst":"198.18.250.1","dev":"mgmt0","prefsrc":"198.18.250.2","flags":[],"uid":0,"cache":[]}]')).toBe('mgmt0');
    expect(routeDevice('not json')).toBeNull();
  });

  it('tool paths: empty means absent', () => {
    expect(parseToolPaths('ip=/usr/sbin/ip\niperf3=\n')).toEqual({ ip: '/usr/sbin/ip', iperf3: null });
  });

  it('tool needs merge who needs them; the apt line is sorted and deduplicated', () => {
    const needs = toolNeeds([
      {
        who: 'every run',
        requires: [
          { kind: 'binary', name: 'ip', pkg: 'iproute2' },
          { kind: 'kernel', feature: 'VETH' },
        ],
      },
      {
        who: 'ovs',
        requires: [
          { kind: 'binary', name: 'ovs-vsctl', pkg: 'openvswitch-switch' },
          { kind: 'binary', name: 'ip', pkg: 'iproute2' },
        ],
      },
    ]);
    expect(needs).toEqual([
      { name: 'ip', pkg: 'iproute2', neededBy: ['every run', 'ovs'] },
      { name: 'ovs-vsctl', pkg: 'openvswitch-switch', neededBy: ['ovs'] },
    ]);
    expect(aptLine(['qperf', 'iperf3', 'qperf'])).toBe('apt-get install -y --no-install-recommends iperf3 qperf');
    expect(aptLine([])).toBeNull();
  });

  it('prepare: apt-get update then one install, noninteractive, as argv', () => {
    expect(prepareArgvs(['qperf', 'iperf3', 'qperf'])).toEqual([
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-qq'],
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'iperf3', 'qperf'],
    ]);
    expect(prepareArgvs([])).toEqual([]);
  });
});
