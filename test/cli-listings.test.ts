import { describe, expect, it } from 'vitest';
import { renderColumns } from '../src/cli/columns.js';
import { renderTestNames, testNames } from '../src/cli/tests-command.js';
import { pickTests } from '../src/cli/run-options.js';
import { fullTests, quickTests } from '../src/measure/tests.js';

describe('cnlab tests', () => {
  it("lists the names the reports use, the default run's first, sweeps as one row", () => {
    const rows = testNames();
    expect(rows.slice(0, 3).map((r) => [r.name, r.inDefault])).toEqual([
      ['tcp-1', true],
      ['udp', true],
      ['udp-lat', true],
    ]);
    expect(rows.find((r) => r.name === 'lat-tcp')).toMatchObject({ tool: 'sockperf', inDefault: false, inFull: true });
    expect(rows.map((r) => r.name)).toContain('qperf-tcp_bw-<bytes>');
    expect(rows.some((r) => /^qperf-tcp_bw-\d+$/.test(r.name))).toBe(false);
    const text = renderTestNames(rows);
    expect(text.split('\n')[0]).toMatch(/^name\s+tool\s+where\s+in\s+measures$/);
  });

  it('every listed name is accepted by --tests (udp-lat too)', () => {
    const every = [...quickTests('1G', ['cross', 'same']), ...fullTests('1G', ['cross', 'same'])];
    for (const r of testNames().filter((x) => !x.name.includes('<'))) expect(pickTests(every, r.name).length, r.name).toBeGreaterThan(0);
  });
});

describe('renderColumns', () => {
  it('has a header row, sizes columns to their widest cell and cuts only the last to the width', () => {
    const text = renderColumns(['a', 'bb', 'text'], [['long-name', 'x', 'y'.repeat(100)]], 60);
    const [head, row] = text.trimEnd().split('\n');
    expect(head.indexOf('bb')).toBe(row.indexOf('x'));
    expect([...row].length).toBe(60);
    expect(row.endsWith('…')).toBe(true);
  });
});

describe('progress line', () => {
  it('says what runs, the last figure, the time taken and the time left', async () => {
    const { liveLine } = await import('../src/cli/progress.js');
    expect(liveLine('calico', 'tcp-1/cross run 2/3', 12.4, 40, 'udp/cross 0.95 Gbit/s')).toBe(
      'calico: tcp-1/cross run 2/3 · last udp/cross 0.95 Gbit/s · 12s, about 28s left',
    );
    expect(liveLine('ovs', 'tearing down', 50, 40)).toBe('ovs: tearing down · 50s, finishing');
    expect(liveLine('host', 'building', 95)).toBe('host: building · 1m35s');
  });
});
