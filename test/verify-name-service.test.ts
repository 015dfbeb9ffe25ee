import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writeNetnsEtc } from '../src/apply/netns-etc.js';
import { newState } from '../src/apply/state.js';
import type { Evidence } from '../src/result/verify.js';
import { dnsmasqArgs, hostsFile, nameServiceOf, resolvConf } from '../src/verify/dns.js';
import { judgeNameService, type NameServiceData } from '../src/verify/probes/name-service.js';

/** The name-service probe's judge on evidence captured from weave-sleeve (dnsmasq as weaveDNS) and calico (none). */

const captured = (scheme: string): Evidence<NameServiceData> =>
  JSON.parse(readFileSync(new URL(`./fixtures/verify/name-service-${scheme}.json`, import.meta.url), 'utf8')) as Evidence<NameServiceData>;

describe('judgeNameService', () => {
  it('weave: {hostname}.weave.local and plain {hostname} resolve to the peer → dns', () => {
    const e = captured('weave-sleeve');
    expect(e.commands.some((c) => c.argv[0] === 'dnsmasq')).toBe(true);
    expect(judgeNameService(e)).toMatchObject({ mark: 'yes', key: 'dns', text: 'DNS: h2c1.weave.local, h2c1 → 198.19.2.2' });
  });

  it('calico: the lookup was made and found nothing, no server built → none', () => {
    const e = captured('calico');
    expect(e.data.service).toBeUndefined();
    expect(judgeNameService(e)).toMatchObject({ mark: 'no', key: 'none', text: 'no name service' });
  });

  it('a built service that answers nothing is broken; a wrong address or a partial answer is named', () => {
    const e = captured('weave-sleeve');
    const failed = e.data.lookups.map((l) => ({ ...l, got: [], code: 2 }));
    expect(judgeNameService({ ...e, data: { ...e.data, lookups: failed } })).toMatchObject({ mark: 'no', key: 'broken' });
    const wrong = e.data.lookups.map((l) => ({ ...l, got: ['198.19.1.2'] }));
    expect(judgeNameService({ ...e, data: { ...e.data, lookups: wrong } })).toMatchObject({ mark: 'no', key: 'wrong' });
    const partial = [e.data.lookups[0], { ...e.data.lookups[1], got: [], code: 2 }];
    expect(judgeNameService({ ...e, data: { ...e.data, lookups: partial } })).toMatchObject({
      key: 'dns-partial',
      text: 'DNS: h2c1.weave.local resolve; h2c1 do not',
    });
    expect(judgeNameService({ ...e, data: { lookups: [] } }).mark).toBe('not-run');
  });
});

describe('the name services cnlab builds', () => {
  it('weave and docker-overlay have one; calico and flannel none', () => {
    expect(nameServiceOf('weave-sleeve-encrypted')?.names('h2c1')).toEqual(['h2c1.weave.local', 'h2c1']);
    expect(nameServiceOf('docker-overlay')?.names('h2c1')).toEqual(['h2c1']);
    expect(nameServiceOf('calico')).toBeUndefined();
    expect(nameServiceOf('flannel-vxlan')).toBeUndefined();
  });

  it('records, resolv.conf and dnsmasq arguments: lab addresses only, no upstream, no system files', () => {
    const weave = nameServiceOf('weave-sleeve')!;
    expect(hostsFile(weave, [{ node: 'h1c1', ip: '198.19.1.2' }])).toBe('198.19.1.2 h1c1.weave.local h1c1\n');
    expect(resolvConf('x', weave, '198.19.1.1')).toContain('nameserver 198.19.1.1\nsearch weave.local\n');
    expect(resolvConf('x', undefined, undefined)).not.toContain('nameserver');
    const args = dnsmasqArgs('198.19.1.1', '/run/cnlab/x/dns/hosts');
    expect(args).toEqual(
      expect.arrayContaining(['--listen-address=198.19.1.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--conf-file=/dev/null']),
    );
  });

  it('writes /etc/netns files only for a namespace of the lab', () => {
    const state = newState('vnu', 'calico', ['cnl-vnu-h1c1'], {});
    expect(() => writeNetnsEtc(state, 'cnl-other-h1c1', { 'resolv.conf': '' })).toThrow(/not a namespace of lab vnu/);
    expect(state.netnsEtc).toEqual([]);
  });
});
