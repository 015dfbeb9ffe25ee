import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { keyPath, loadInventory, parseInventory } from '../src/remote/inventory.js';

const dir = fileURLToPath(new URL('./fixtures/inventory/', import.meta.url));
const fixture = (name: string) => `${dir}${name}.yaml`;

function refusal(name: string): InputError {
  try {
    loadInventory(fixture(name));
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const err = e as InputError;
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toMatch(/\n/);
    return err;
  }
  throw new Error(`${name} was accepted`);
}

describe('inventory: a good file', () => {
  it('fills defaults and resolves the key next to the file', () => {
    const inv = loadInventory(fixture('good'));
    expect(inv.hosts).toEqual([
      { name: 'a', ssh: 'root@host-a', nic: 'eth1', sudo: false, port: 22, nic_mode: 'macvlan' },
      { name: 'b', ssh: 'ops@198.18.0.2', nic: 'enp3s0f1', sudo: true, port: 2222, key: `${dir}lab.key`, nic_mode: 'passthru' },
    ]);
  });

  it('takes IPv6 targets and ipvlan as an opt-in mode', () => {
    const inv = parseInventory({ hosts: [{ name: 'x1', ssh: 'root@fd00::1', nic: 'eth1', nic_mode: 'ipvlan' }] }, 'inline', dir);
    expect(inv.hosts[0].nic_mode).toBe('ipvlan');
  });

  it('takes an ssh_config next to the file, and refuses one that is not there', () => {
    const hosts = [{ name: 'a', ssh: 'root@host-a', nic: 'eth1' }];
    expect(parseInventory({ hosts, ssh_config: 'lab.key' }, 'inline', dir).sshConfig).toBe(`${dir}lab.key`);
    expect(() => parseInventory({ hosts, ssh_config: 'nope.conf' }, 'inline', dir)).toThrow(
      /inline: ssh_config .*nope\.conf does not exist/,
    );
  });

  it('expands ~/ to the home directory only', () => {
    expect(keyPath('~/.ssh/lab', '/x', '/home/u')).toBe('/home/u/.ssh/lab');
    expect(keyPath('k', '/inv', '/home/u')).toBe('/inv/k');
    expect(() => keyPath('~root/.ssh/id', '/x')).toThrow(/only ~\//);
  });
});

describe('inventory: bad files are one line, exit 2', () => {
  const cases: Array<[string, RegExp]> = [
    ['duplicate-name', /hosts\.1 \(a\): name a is also host a/],
    ['duplicate-machine', /hosts\.1 \(b\): machine host-a port 22 is also host a/],
    ['missing-nic', /hosts\.0\.nic must be string, got undefined/],
    ['bad-name', /hosts\.0\.name must be 1-15 lowercase letters or digits.*cnl-<lab>-<name>/],
    ['node-name', /hosts\.0\.name must not be a name cnlab gives its own nodes/],
    ['bad-port', /hosts\.0\.port must be 1-65535/],
    ['string-port', /hosts\.0\.port must be number, got string/],
    ['option-injection', /hosts\.0\.ssh has a bad host "-oProxyCommand=touch \/tmp\/cnlab-pwned"/],
    ['nic-injection', /hosts\.0\.nic must be an interface name/],
    ['no-user', /hosts\.0\.ssh must be user@host, got "host-a"/],
    ['unknown-key', /unknown key "nci" in hosts\.0/],
    ['bad-mode', /hosts\.0\.nic_mode must be one of macvlan, passthru, ipvlan/],
    ['missing-key', /hosts\.0 \(a\): key .*does-not-exist\.key does not exist/],
    ['duplicate-yaml-key', /bad YAML in .*duplicate-yaml-key\.yaml: Map keys must be unique/],
    ['not-yaml', /bad YAML in .*not-yaml\.yaml/],
    ['empty', /hosts must list at least one host/],
    ['list', /expected a mapping with a "hosts" list/],
    ['no-such-file', /cannot read inventory .*no-such-file\.yaml: ENOENT/],
  ];
  for (const [name, re] of cases) {
    it(name, () => {
      expect(refusal(name).message).toMatch(re);
    });
  }

  it('refuses hosts that would collide with another lab (hyphens split lab from node)', () => {
    expect(() => parseInventory({ hosts: [{ name: 'a-b', ssh: 'root@host-a', nic: 'eth1' }] }, 'inline', dir)).toThrow(InputError);
  });

  it('refuses an ssh user that is an option', () => {
    expect(() => parseInventory({ hosts: [{ name: 'a', ssh: '-l@host-a', nic: 'eth1' }] }, 'inline', dir)).toThrow(/bad user "-l"/);
  });

  it('refuses a host name longer than 15', () => {
    expect(() => parseInventory({ hosts: [{ name: 'a'.repeat(16), ssh: 'root@host-a', nic: 'eth1' }] }, 'inline', dir)).toThrow(
      /hosts\.0\.name/,
    );
  });
});
