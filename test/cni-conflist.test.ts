import { describe, expect, it } from 'vitest';
import { parseConflist } from '../src/cni/conflist.js';
import { cniShell } from '../src/cni/render.js';
import { capabilityArgs, containerAddress, parseResult, pluginConfig } from '../src/cni/runtime.js';
import { InputError, RunError } from '../src/errors.js';

const good = {
  cniVersion: '1.0.0',
  name: 'lab-net',
  plugins: [
    { type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '198.19.1.0/24' } },
    { type: 'bandwidth', capabilities: { bandwidth: true } },
  ],
};

function parseError(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  try {
    parseConflist(text, 'my.conflist');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected parseConflist to throw');
}

describe('parseConflist', () => {
  it('accepts a valid list and keeps plugin fields', () => {
    const list = parseConflist(JSON.stringify(good), 'my.conflist');
    expect(list.name).toBe('lab-net');
    expect(list.plugins[0]).toMatchObject({ type: 'bridge', bridge: 'cni0', ipam: { subnet: '198.19.1.0/24' } });
    for (const v of ['0.4.0', '1.0.0', '1.1.0']) {
      expect(parseConflist(JSON.stringify({ ...good, cniVersion: v }), 'x').cniVersion).toBe(v);
    }
  });

  it.each([
    ['{not json', /^bad CNI config my\.conflist: not valid JSON/],
    ['[1,2]', 'bad CNI config my.conflist: config must be a JSON object'],
    [{ ...good, cniVersion: '0.3.1' }, 'bad CNI config my.conflist: cniVersion must be one of 0.4.0, 1.0.0, 1.1.0, got "0.3.1"'],
    [{ name: 'n', plugins: good.plugins }, 'bad CNI config my.conflist: cniVersion is required'],
    [{ ...good, name: '' }, 'bad CNI config my.conflist: name must not be empty'],
    [{ ...good, name: 'bad name' }, /^bad CNI config my\.conflist: name must start with a letter or digit/],
    [{ ...good, name: '-x' }, /name must start/],
    [{ ...good, plugins: [] }, 'bad CNI config my.conflist: plugins must list at least one plugin'],
    [{ cniVersion: '1.0.0', name: 'n' }, 'bad CNI config my.conflist: plugins is required'],
    [{ ...good, plugins: [good.plugins[0], { mtu: 1500 }] }, 'bad CNI config my.conflist: plugins[1].type is required'],
    [{ ...good, plugins: [{ type: 7 }] }, 'bad CNI config my.conflist: plugins[0].type must be a string'],
    [{ ...good, plugins: ['bridge'] }, 'bad CNI config my.conflist: plugins[0] must be an object'],
    [{ ...good, plugins: [{ type: '../../bin/sh' }] }, /plugins\[0\]\.type must be a plugin file name/],
    [{ ...good, plugins: [{ type: '/usr/bin/id' }] }, /plugins\[0\]\.type must be a plugin file name/],
    [{ ...good, plugins: [{ type: '..' }] }, /plugins\[0\]\.type must be a plugin file name/],
    [{ ...good, plugins: [{ type: 'bridge', ipam: { type: 'x/y' } }] }, /plugins\[0\]\.ipam\.type must be a plugin file name/],
    [
      { ...good, plugins: [{ type: 'bandwidth', capabilities: { bandwidth: 'yes' } }] },
      /plugins\[0\]\.capabilities\.bandwidth must be true or false/,
    ],
  ])('rejects %j', (input, expected) => {
    const msg = parseError(input);
    if (typeof expected === 'string') expect(msg).toBe(expected);
    else expect(msg).toMatch(expected);
  });
});

describe('pluginConfig', () => {
  const list = parseConflist(JSON.stringify(good), 'my.conflist');
  const rc = { bandwidth: { ingressRate: 1 }, portMappings: [{ hostPort: 80 }] };

  it('injects cniVersion and name, and runtimeConfig only for declared capabilities', () => {
    expect(pluginConfig(list, 0, rc)).toEqual({ cniVersion: '1.0.0', name: 'lab-net', ...good.plugins[0] });
    expect(pluginConfig(list, 1, rc, { cniVersion: '1.0.0' })).toEqual({
      cniVersion: '1.0.0',
      name: 'lab-net',
      type: 'bandwidth',
      capabilities: { bandwidth: true },
      runtimeConfig: { bandwidth: { ingressRate: 1 } },
      prevResult: { cniVersion: '1.0.0' },
    });
  });

  it('ignores capabilities set to false and keys the runtime does not have', () => {
    expect(capabilityArgs({ capabilities: { bandwidth: false, portMappings: true } }, rc)).toEqual({ portMappings: [{ hostPort: 80 }] });
    expect(capabilityArgs({ capabilities: { ips: true } }, rc)).toBeUndefined();
    expect(capabilityArgs({ capabilities: { bandwidth: true } }, undefined)).toBeUndefined();
  });
});

describe('parseResult', () => {
  const result = {
    cniVersion: '1.0.0',
    interfaces: [
      { name: 'cni0', mac: '0a:58:c6:13:01:01' },
      { name: 'veth1', mac: '0a:58:c6:13:01:02' },
      { name: 'eth0', mac: '0a:58:c6:13:01:03', sandbox: '/run/netns/c1' },
    ],
    ips: [
      { address: '2001:db8::2/64', interface: 2 },
      { address: '198.19.1.2/24', gateway: '198.19.1.1', interface: 2 },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: '198.19.1.1' }],
    dns: {},
  };

  it('parses a 1.0 result and finds the container address', () => {
    const parsed = parseResult(JSON.stringify(result));
    expect(parsed.ips?.[1]?.gateway).toBe('198.19.1.1');
    expect(containerAddress(parsed, 'eth0')).toBe('198.19.1.2');
    expect(containerAddress(parsed, 'eth1')).toBeUndefined();
  });

  it('keeps unknown fields (0.4.0 "version") for chaining', () => {
    const old = { ...result, cniVersion: '0.4.0', ips: [{ version: '4', address: '198.19.1.2/24', interface: 2 }] };
    expect(parseResult(JSON.stringify(old)).ips?.[0]).toMatchObject({ version: '4' });
  });

  it('skips addresses on host-side interfaces', () => {
    const hostOnly = { ...result, ips: [{ address: '198.19.1.1/24', interface: 0 }] };
    expect(containerAddress(parseResult(JSON.stringify(hostOnly)), 'cni0')).toBeUndefined();
  });

  it.each([
    ['', /not a JSON result: \(empty output\)/],
    ['{"interfaces":[]}', /cniVersion/],
    [JSON.stringify({ ...result, ips: [{ address: '198.19.1.2' }] }), /ips\[0\]\.address must be an address in CIDR form/],
    [JSON.stringify({ ...result, ips: [{ address: '198.19.1.2/33' }] }), /CIDR/],
    [JSON.stringify({ ...result, routes: [{ dst: '0.0.0.0/0', gw: 'x' }] }), /routes\[0\]\.gw must be an IP address/],
  ])('rejects %s', (text, expected) => {
    expect(() => parseResult(text)).toThrow(RunError);
    expect(() => parseResult(text)).toThrow(expected);
  });
});

describe('cniShell', () => {
  const step = {
    kind: 'cni' as const,
    ns: 'cnl-h1',
    containerNs: 'cnl-c1',
    containerId: 'c1',
    ifName: 'eth0',
    conflist: { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge', note: "it's" }] },
  };

  it('renders one plugin as one printf | plugin line', () => {
    expect(cniShell(step)).toEqual([
      `printf '%s' '{"cniVersion":"1.0.0","name":"n","type":"bridge","note":"it'\\''s"}' | ` +
        'CNI_COMMAND=ADD CNI_CONTAINERID=c1 CNI_NETNS=/run/netns/cnl-c1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni ' +
        'ip netns exec cnl-h1 /usr/lib/cni/bridge',
    ]);
  });

  it('keeps odd container ids out of the comment line', () => {
    const chained = { ...step, containerId: 'x\nreboot', conflist: { ...step.conflist, plugins: [{ type: 'a' }, { type: 'b' }] } };
    const lines = cniShell(chained, '/opt/cni bin');
    expect(lines[0]).toBe('# CNI ADD x?reboot: a -> b');
    expect(lines[1]).toContain("CNI_CONTAINERID='x\nreboot'");
    expect(lines[1]).toContain("CNI_PATH='/opt/cni bin' ip netns exec cnl-h1 '/opt/cni bin/a'");
  });
});
