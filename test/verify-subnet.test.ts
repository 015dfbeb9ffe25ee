import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Evidence } from '../src/result/verify.js';
import { judgeSubnetRestriction, subnetRestriction, type SubnetData } from '../src/verify/probes/subnet-restriction.js';
import { checkAddressPlan } from '../src/lab/topology.js';
import { DEFAULT_TOPOLOGY } from '../src/lab/topology.js';
import { calico } from '../src/schemes/calico.js';

/** The subnet-restriction probe's judge on evidence captured from calico (works) and weave-sleeve (host paths fail). */

const captured = (scheme: string): Evidence<SubnetData> =>
  JSON.parse(readFileSync(new URL(`./fixtures/verify/subnet-restriction-${scheme}.json`, import.meta.url), 'utf8')) as Evidence<SubnetData>;

describe('judgeSubnetRestriction', () => {
  it('calico: builds, and container↔container and container↔hosts work → works', () => {
    expect(judgeSubnetRestriction(captured('calico'))).toMatchObject({
      mark: 'yes',
      key: 'works',
      text: 'builds; container↔container, container↔own host, container↔other host work',
    });
  });

  it('weave-sleeve: builds, but the hosts are looked for on the container segment → broken, naming the part', () => {
    const v = judgeSubnetRestriction(captured('weave-sleeve'));
    expect(v).toMatchObject({ mark: 'no', key: 'broken', text: 'builds, but container↔own host, container↔other host fail' });
    expect(v.detail).toContain('on-link');
    expect(v.detail).toContain('container↔container works');
  });

  it('a failed build is judged refused, with its error; no route to a host is a path not offered', () => {
    expect(
      judgeSubnetRestriction({
        commands: [],
        data: {} as SubnetData,
        buildError: 'lab vns: step 3 failed: RTNETLINK answers: File exists',
      }),
    ).toMatchObject({
      mark: 'no',
      key: 'refused',
      text: 'refused: lab vns: step 3 failed: RTNETLINK answers: File exists',
    });
    const e = captured('weave-sleeve');
    const noRoute = e.data.checks.map((c) => (c.what === 'container' ? c : { ...c, route: null, reached: false }));
    expect(judgeSubnetRestriction({ ...e, data: { ...e.data, checks: noRoute } })).toMatchObject({
      mark: 'yes',
      text: 'builds; container↔container works; no container↔own host, container↔other host path (no route in the container)',
    });
    const unreachablePeer = e.data.checks.map((c) => (c.what === 'container' ? { ...c, route: null, reached: false } : c));
    expect(judgeSubnetRestriction({ ...e, data: { ...e.data, checks: unreachablePeer } }).text).toContain('container↔container');
    expect(judgeSubnetRestriction({ ...e, data: { ...e.data, underlayAddresses: true } }).key).toBe('n/a');
  });

  it("the probe's shape puts the pod network inside the underlay subnet, which cnlab run's input check refuses", () => {
    const shape = subnetRestriction.needs(calico);
    expect(shape.buildMayFail).toBe(true);
    const t = { ...DEFAULT_TOPOLOGY, ...shape.topology, hosts: shape.hosts, containersPerHost: shape.containersPerHost };
    expect(() => checkAddressPlan(t, 'probe')).toThrow(/overlaps the pod network/);
  });
});
