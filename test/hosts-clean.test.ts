import { describe, expect, it } from 'vitest';
import { checkMarker, stateFromMarkers } from '../src/apply/hosts-clean.js';
import { labStateDir } from '../src/lab/paths.js';
import type { Inventory } from '../src/remote/inventory.js';

const marker = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    lab: 'ssmk',
    scheme: 'macvlan',
    host: 'b',
    createdAt: '2026-12-06T03:00:00.000Z',
    status: 'up',
    namespaces: ['cnl-ssmk-h2', 'cnl-ssmk-h2c1'],
    stateDir: labStateDir('ssmk'),
    owner: { host: 'ctl', pid: 4242, startTime: 99 },
    ...over,
  });
const FILE = '/run/cnlab/ssmk.b.json';

describe('clean -i: markers', () => {
  it('accepts a marker that is this host’s, for this file, naming only the lab’s namespaces', () => {
    const m = checkMarker(marker(), FILE, 'b');
    expect(m).toMatchObject({ lab: 'ssmk', namespaces: ['cnl-ssmk-h2', 'cnl-ssmk-h2c1'] });
    // Older markers, without stateDir and owner, still do.
    const old = JSON.parse(marker()) as Record<string, unknown>;
    delete old.stateDir;
    delete old.owner;
    expect(typeof checkMarker(JSON.stringify(old), FILE, 'b')).toBe('object');
  });

  it.each([
    ['not JSON', '{', FILE, 'b', /not JSON/],
    ['another host’s', marker(), FILE, 'a', /names host b, read on a/],
    [
      'a file not named for its lab',
      marker(),
      '/run/cnlab/other.b.json',
      'b',
      /names lab ssmk, whose marker on b is \/run\/cnlab\/ssmk\.b\.json/,
    ],
    ['a namespace of another lab', marker({ namespaces: ['cnl-ssmk-h2', 'cnl-prod-h1'] }), FILE, 'b', /not lab ssmk's \(cnl-prod-h1\)/],
    ['the machine’s own namespace', marker({ namespaces: ['default'] }), FILE, 'b', /not lab ssmk's \(default\)/],
    ['a hostile namespace name', marker({ namespaces: ['cnl-ssmk-h2 $(reboot)'] }), FILE, 'b', /not lab ssmk's/],
    ['a bad lab name', marker({ lab: '../etc' }), '/run/cnlab/../etc.b.json', 'b', /not a cnlab marker \(lab:/],
    ['no namespaces', marker({ namespaces: [] }), FILE, 'b', /not a cnlab marker \(namespaces:/],
    ['another directory', marker({ stateDir: '/' }), FILE, 'b', /names directory \/, not lab ssmk's/],
  ])('refuses %s', (_what, text, file, host, re) => {
    const m = checkMarker(text, file, host);
    expect(typeof m).toBe('string');
    expect(m).toMatch(re);
  });

  it('builds the state teardown removes: the markers’ namespaces on their hosts, the lab’s directory, the markers', () => {
    const inv: Inventory = {
      source: 'hosts.yaml',
      hosts: [
        { name: 'a', ssh: 'root@198.18.250.2', nic: 'eth1', sudo: false, port: 22, nic_mode: 'macvlan' },
        { name: 'b', ssh: 'root@198.18.250.6', nic: 'eth1', sudo: true, port: 2222, nic_mode: 'passthru' },
      ],
    };
    const a = checkMarker(marker({ host: 'a', namespaces: ['cnl-ssmk-h1', 'cnl-ssmk-ctl'] }), '/run/cnlab/ssmk.a.json', 'a');
    const b = checkMarker(marker(), FILE, 'b');
    if (typeof a === 'string' || typeof b === 'string') throw new Error('markers refused');
    const s = stateFromMarkers(
      inv,
      'ssmk',
      [
        { host: inv.hosts[0], marker: a },
        { host: inv.hosts[1], marker: b },
      ],
      { pid: 1, startTime: 2 },
    );
    expect(s.namespaces).toEqual(['cnl-ssmk-h1', 'cnl-ssmk-ctl', 'cnl-ssmk-h2', 'cnl-ssmk-h2c1']);
    expect(s.stateDir).toBe(labStateDir('ssmk'));
    expect(s.cni).toEqual([]);
    expect(s.hosts!.hosts.map((h) => [h.name, h.node, h.port, h.sudo, h.marker])).toEqual([
      ['a', 'h1', 22, false, '/run/cnlab/ssmk.a.json'],
      ['b', 'h2', 2222, true, '/run/cnlab/ssmk.b.json'],
    ]);
  });
});
