import type { Command } from 'commander';
import { DEFAULT_SIZES, fullTests, quickTests } from '../measure/tests.js';
import { testTitle } from '../report/figures.js';
import type { TestSpec } from '../result/types.js';

/**
 * `cnlab tests`: every name `cnlab run --tests` accepts, with what it measures, the tool, where it
 * runs and whether the default run or --full includes it — the same names the reports use.
 */

export interface TestName {
  name: string;
  what: string;
  tool: string;
  placements: string[];
  inDefault: boolean;
  inFull: boolean;
}

const nameOf = (t: TestSpec) => t.id.split('/')[0];

/** Pure: the test names, default run's first, in the order a run measures them. */
export function testNames(udpRate = '1G'): TestName[] {
  const quick = quickTests(udpRate, ['cross', 'same']);
  const full = fullTests(udpRate, ['cross', 'same']);
  const out = new Map<string, TestName>();
  for (const t of [...quick, ...full]) {
    // A message-size sweep is one row: its names differ only in the size.
    const sweep = t.kind === 'qperf' && t.sweep;
    const n = sweep ? nameOf(t).replace(/-\d+$/, '-<bytes>') : nameOf(t);
    const e = out.get(n) ?? {
      name: n,
      what: sweep
        ? `qperf ${t.qperfTest} at one message size; --sizes chooses them (default ${DEFAULT_SIZES})`
        : testTitle(t).replace(/, (cross|same)-host$/, ''),
      tool: t.kind === 'udp-rate-sweep' ? 'iperf3 (rate search)' : (t.kind ?? 'iperf3'),
      placements: [],
      inDefault: false,
      inFull: false,
    };
    if (!e.placements.includes(t.placement)) e.placements.push(t.placement);
    if (quick.includes(t)) e.inDefault = true;
    if (full.includes(t)) e.inFull = true;
    out.set(n, e);
  }
  return [...out.values()];
}

/** Pure: the listing, a header row and columns sized to fit. */
export function renderTestNames(rows: TestName[]): string {
  const cells = rows.map((r) => [
    r.name,
    r.tool,
    r.placements.join('+'),
    [r.inDefault ? 'default' : '', r.inFull ? '--full' : ''].filter(Boolean).join(', '),
    r.what,
  ]);
  const head = ['name', 'tool', 'where', 'in', 'measures'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]))).join('  ');
  return `${[line(head), ...cells.map(line)].join('\n')}\nPick with: cnlab run --tests NAME[,NAME…] (names from this list; placements follow --no-same-host).\n`;
}

export function registerTestsCommand(program: Command): void {
  program
    .command('tests')
    .description('list the test names `cnlab run --tests` accepts, with what each measures')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const rows = testNames();
      process.stdout.write(o.json ? `${JSON.stringify(rows, null, 2)}\n` : renderTestNames(rows));
    });
}
