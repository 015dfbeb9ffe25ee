import { describe, expect, it } from 'vitest';
import { compareResults } from '../src/report/compare-data.js';
import { renderCompareHtml } from '../src/report/compare-html.js';
import { csvCell, csvFiles } from '../src/report/csv.js';
import { jsonForHtml } from '../src/report/escape.js';
import { buildModel } from '../src/report/figures.js';
import { chartSpecs, renderHtml } from '../src/report/html.js';
import { latencySectionCharts } from '../src/report/html-latency.js';
import { writeReports } from '../src/report/write-reports.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderMarkdown } from '../src/report/markdown.js';
import type { ResultFile } from '../src/result/types.js';
import { EVIL, full, malicious, real } from './fixtures/results/synthetic.js';

const html = renderHtml(real());

describe('HTML report', () => {
  it('is self-contained: no script, no external resource, a CSP forbidding both', () => {
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'none'/);
    expect(html).not.toMatch(/<script(?![^>]*type="application\/json")/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    // url(#…) is an SVG pattern inside the page (hatched bars); nothing else may load.
    expect(html).not.toMatch(/url\((?!data:|#)/);
  });

  it('draws every chart the data support, with three layouts each', () => {
    const ids = chartSpecs(buildModel(real())).map((c) => c.id);
    expect(ids).toEqual(['throughput-cross', 'throughput-same', 'vs-host', 'cpu-cross', 'cpu-same', 'udp-loss']);
    for (const id of ids) {
      const fig = html.slice(html.indexOf(`data-chart="${id}"`), html.indexOf('</figure>', html.indexOf(`data-chart="${id}"`)));
      expect(fig.match(/<svg /g)).toHaveLength(3);
      expect((fig.match(/<path /g) ?? []).length).toBeGreaterThan(10);
    }
  });

  it('leaves out the charts and sections whose data are absent', () => {
    const r = real();
    r.options.tests = r.options.tests.filter((t) => t.protocol === 'tcp' && t.placement === 'cross');
    for (const s of r.schemes) {
      s.tests = s.tests.filter((t) => t.protocol === 'tcp' && t.placement === 'cross');
      for (const t of s.tests) for (const run of t.runs) delete run.cpu;
    }
    const ids = chartSpecs(buildModel(r)).map((c) => c.id);
    expect(ids).toEqual(['throughput-cross', 'vs-host']);
    const page = renderHtml(r);
    expect(page).not.toContain('data-chart="udp-loss"');
    expect(page).not.toContain('same-host path');
    expect(page).not.toContain('id="encap"');
  });

  it('links the raw result, the CSVs and the Markdown as files beside the page, each written there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnlab-report-'));
    try {
      const written = writeReports(real(), dir);
      const page = readFileSync(written[0], 'utf8');
      const links = [...page.matchAll(/<a href="([^"]+)" download="([^"]+)"/g)].map((m) => m[1]);
      expect(links).toEqual(['result.json', 'report.md', 'summary.csv', 'runs.csv']);
      for (const name of links) expect(existsSync(join(dir, name)), name).toBe(true);
      expect(page).not.toContain('base64,');
      expect(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'))).toEqual(real());
      expect(readFileSync(join(dir, 'summary.csv'), 'utf8').split('\r\n')[0]).toMatch(
        /^scheme,stand_in,stand_in_what,status,test,protocol,streams,placement,runs_ok/,
      );
      expect(readFileSync(join(dir, 'runs.csv'), 'utf8').split('\r\n')).toHaveLength(1 + 4 * 6 * 3 + 1);
      expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('## cnlab: container networks against the host');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows the environment, the path of every scheme and the verdicts', () => {
    expect(html).toContain('6.18.44-fc-v669');
    expect(html).toContain('<span class="l">VXLAN flannel.1</span><span class="d">VNI 1, UDP 8472, +50 B</span>');
    expect(html).toContain('Recommendations by constraint');
    expect(html).toMatch(/≈ host \(\+9%, not significant: p = 0\.\d\d\)/);
  });

  it('escapes every string from the result file', () => {
    const page = renderHtml(malicious());
    for (const s of Object.values(EVIL)) {
      // Every tag with attributes appears only escaped; bare <script>/<style> are counted below.
      const raw = s.match(/<[a-z]+(\s[^>]*)?>/gi) ?? [];
      for (const tag of raw.filter((t) => /[\s=]/.test(t))) expect(page.includes(tag), tag).toBe(false);
    }
    expect(page).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    expect(page).not.toMatch(/<(img|iframe|svg onload|b onmouseover|style>\*)/i);
    // The embedded summary is JSON with no markup: < and > are \u escapes.
    const json = /<script type="application\/json" id="cnlab-summary">([^<]*)<\/script>/.exec(page)!;
    expect(JSON.parse(json[1]).lab).toBe(EVIL.lab);
    expect(page.match(/<\/script>/g)).toHaveLength(1);
    expect(page.match(/<script[ >]/g)).toHaveLength(1);
    expect(page.match(/<style>/g)).toHaveLength(1);
  });
});

describe('escaping helpers', () => {
  it('jsonForHtml leaves no markup and parses back', () => {
    const v = { a: '</script><!--<b>&\u2028' };
    const s = jsonForHtml(v);
    expect(s).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(s)).toEqual(v);
  });

  it('csvCell quotes and defuses formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell(-1.5)).toBe('-1.5');
    expect(csvCell(undefined)).toBe('');
  });
});

describe('Markdown and CSV', () => {
  it('Markdown: a table, the verdicts, the paths; no raw HTML from the result', () => {
    const md = renderMarkdown(real());
    expect(md).toMatch(/\| flannel-vxlan \| overlay \(encapsulation\) \| 1450 \| 11\.31( \[[\d.]+–[\d.]+\])? \| ≈ 107% \|/);
    expect(md).toContain(
      '- flannel-vxlan: `h1c1 eth0 → cni0 → host IP stack → VXLAN flannel.1 (+50 B) → eth0 → host 2` — MTU 1450, 50 B encapsulation',
    );
    expect(md).toContain('### Recommendations by constraint');
    // The stand-in is marked, with its legend.
    expect(md).toMatch(/\| calico† \| routed/);
    expect(md).toContain('† stand-in:');
    const evil = renderMarkdown(malicious());
    expect(evil).not.toMatch(/<(img|script|iframe|svg|b |style)/i);
  });

  it('CSV: one row per scheme and test with every figure', () => {
    const [summary] = csvFiles(real());
    const rows = summary.text
      .trim()
      .split('\r\n')
      .map((l) => l.split(','));
    const head = rows[0];
    const row = rows.find((x) => x[0] === 'flannel-vxlan' && x[head.indexOf('test')] === 'tcp-1/cross')!;
    const get = (k: string) => row[head.indexOf(k)];
    expect(Number(get('gbps_median'))).toBeCloseTo(11.31, 2);
    expect(Number(get('vs_host'))).toBeCloseTo(1.072, 3);
    expect(get('encap_bytes')).toBe('50');
    expect(get('layout')).toBe('overlay');
    expect(Number(get('cpu_softirq_per_gbit'))).toBeGreaterThan(0);
  });

  it('an unsupported or failed scheme still has its row', () => {
    const r: ResultFile = real();
    r.schemes.push({
      name: 'ipvlan-l2',
      status: 'unsupported',
      reason: 'unsupported here: needs CONFIG_IPVLAN',
      summary: '',
      attach: 'cni',
      notes: [],
      overhead: 0,
      tests: [],
    });
    expect(csvFiles(r)[0].text).toMatch(/\r\nipvlan-l2,,,unsupported,,/);
    expect(renderMarkdown(r)).toContain('- ipvlan-l2: unsupported — unsupported here: needs CONFIG_IPVLAN');
    expect(renderHtml(r)).toContain('unsupported here: needs CONFIG_IPVLAN');
  });
});

describe('figures of a fuller run (--full: sweeps, latency, load, rate search)', () => {
  const r = full();
  const page = renderHtml(r);
  const ids = chartSpecs(buildModel(r)).map((c) => c.id);

  it('draws each optional figure that is present, and only those', () => {
    const latency = latencySectionCharts(buildModel(r)).map((c) => c.id);
    expect(latency).toEqual([
      'latency-range-lat-udp-cross',
      'latency-cdf-lat-udp-cross',
      'latency-range-lat-udp-same',
      'latency-cdf-lat-udp-same',
    ]);
    expect(page).toContain('<section id="latency"><h2>Latency</h2>');
    expect(ids).toEqual(
      expect.arrayContaining([
        'load-lat-tcp-loaded-cross',
        'cpu-transactions-cross',
        'sweep-qperf-tcp-bw',
        'sweep-qperf-tcp-lat',
        'sweep-iperf3-udp-datagram-size',
        'sweep-iperf3-udp-datagram-size-loss',
        'rate-loss-cross',
        'rate-max-cross',
      ]),
    );
    // The idle TCP latency test failed in every run: no chart for it, and no empty "idle" bars.
    expect(latency).not.toContain('latency-range-lat-tcp-cross');
    const load = chartSpecs(buildModel(r)).find((c) => c.id === 'load-lat-tcp-loaded-cross')!;
    expect(JSON.stringify(load.option('wide'))).not.toContain('p50 idle');
    // Every figure has its data in the page, three layouts each.
    for (const id of ids) expect(page.split(`data-chart="${id}"`)[1].split('</figure>')[0].match(/<svg /g), id).toHaveLength(3);
  });

  it('the message-size charts draw one line per scheme over the sizes measured', () => {
    const bw = chartSpecs(buildModel(r))
      .find((c) => c.id === 'sweep-qperf-tcp-bw')!
      .option('wide') as { series: Array<{ name: string; data: Array<[number, number]> }>; xAxis: { type: string } };
    expect(bw.xAxis.type).toBe('log');
    expect(bw.series.map((x) => x.name)).toEqual(['host', 'calico', 'flannel-vxlan']);
    expect(bw.series[0].data.map((p) => p[0])).toEqual([1, 16, 256, 4096, 65536]);
    expect(bw.series[0].data.every((p) => p[1] > 0)).toBe(true);
  });

  it('latency enters the table, the ranking and the verdict; knobs the header', () => {
    expect(page).toContain('p50 RTT<br>µs');
    expect(page).toMatch(/UDP round trip \(64 B\), cross-host \(p50 RTT µs, lower is better\): /);
    expect(page).toMatch(/Cross-host latency \(UDP round trip \(64 B\), p50 RTT\): host \d+ µs/);
    expect(page).toContain('· unpinned');
    expect(page).toContain('Every run of lat-tcp/cross failed in host, calico, flannel-vxlan');
    expect(page).not.toContain('\u001b');
  });

  it('offers a CSV for each optional figure', () => {
    const files = csvFiles(r);
    expect(files.map((f) => f.name)).toEqual(['summary.csv', 'runs.csv', 'sweeps.csv', 'latency.csv', 'udp-rate.csv']);
    const sweeps = files.find((f) => f.name === 'sweeps.csv')!.text.split('\r\n');
    expect(sweeps.find((l) => l.startsWith('qperf tcp_bw,msgSize,65536,host,cross,qperf-tcp_bw-65536/cross,gbps,2,'))).toBeDefined();
    const latency = files.find((f) => f.name === 'latency.csv')!.text.split('\r\n');
    expect(latency.find((l) => l.startsWith('calico,lat-udp/cross,sockperf,udp,cross,64,,'))).toMatch(/^(?:[^,]*,){7}\d+\.\d+,/);
    expect(files.find((f) => f.name === 'udp-rate.csv')!.text).toMatch(/\r\nhost,udp-max-rate\/cross,1,100,true,,/);
  });
});

describe('partial and damaged runs still give a report', () => {
  const cases: Array<[string, (r: ResultFile) => void]> = [
    ['no scheme yet (cut short at once)', (r) => ((r.schemes = []), (r.complete = false))],
    ['the baseline only', (r) => (r.schemes = r.schemes.slice(0, 1))],
    ['no baseline', (r) => (r.schemes = r.schemes.slice(1))],
    [
      'every run failed',
      (r) =>
        r.schemes.forEach((s) =>
          s.tests.forEach(
            (t) => (t.runs.forEach((x) => Object.assign(x, { ok: false, error: 'boom' })), delete t.summary, delete t.vsHost),
          ),
        ),
    ],
    ['one run per test', (r) => r.schemes.forEach((s) => s.tests.forEach((t) => (t.runs = t.runs.slice(0, 1))))],
    ['no plans', (r) => r.schemes.forEach((s) => (delete s.plan, delete s.workloads, delete s.interfaces))],
    [
      'runs without CPU figures',
      (r) => r.schemes.forEach((s) => s.tests.forEach((t) => t.runs.forEach((x) => (delete x.cpu, delete x.cpuSecondsPerGbit)))),
    ],
  ];
  it.each(cases)('%s', (_, damage) => {
    const r = real();
    damage(r);
    const page = renderHtml(r);
    expect(page).toContain('<h1>Container networks against the host network</h1>');
    expect(page).toContain('</html>');
    expect(renderMarkdown(r)).toContain('## cnlab');
    expect(csvFiles(r)[0].text.split('\r\n')[0]).toMatch(/^scheme,/);
  });
});

describe('userspace encapsulation counters and compare, when present', () => {
  it("renders the daemons' counters with a CSV", () => {
    const r = real();
    const dir = { packets: 1000, bytes: 1_400_000, datagrams: 1000, datagramBytes: 1_428_000 };
    r.schemes[2].encapCounters = {
      h1: {
        format: 'cnlab-encap-counters',
        version: 1,
        dev: 'flannel0',
        mode: 'tun',
        encrypted: true,
        batching: false,
        pid: 1,
        startedAt: '',
        writtenAt: '',
        tx: dir,
        rx: dir,
        io: { deviceReads: 1000, deviceWrites: 1000, udpSends: 1000, udpMessages: 1000 },
        batches: { multiFrame: 0, maxFrames: 1 },
        drops: { auth: 3, replay: 0 },
        cpuSeconds: { user: 1.5, system: 0.5 },
      },
    };
    r.schemes[2].encapCounters.h1.records = { sealed: { records: 80, items: 1000, padding: 4000 }, opened: { records: 80, items: 1000 } };
    const page = renderHtml(r);
    expect(page).toContain('<section id="encap"><h2>Userspace encapsulation daemons</h2>');
    expect(page).toMatch(
      /<td class="mono">flannel0 \(tun\)<\/td><td>yes<\/td><td class="num">1000<\/td><td class="num">1000<\/td><td class="num">2\.0%<\/td><td class="num">0<\/td><td class="num">12\.5<\/td><td>auth 3<\/td><td class="num">2\.00<\/td>/,
    );
    const csv = csvFiles(r).find((f) => f.name === 'encap-counters.csv')!;
    expect(csv.text).toContain(',80,1000,4000,80,1000,');
    expect(renderMarkdown(r)).toContain('- flannel-vxlan h1: tx 1000 packets (+2.0% bytes, 12.5 per record), rx 1000, drops: auth 3');
  });

  it('counters of odd shapes (a hand-edited file) neither break the reports nor reach the page raw', () => {
    const r = real();
    const odd = {
      dev: '<img src=x onerror=alert(1)>',
      mode: 'tun',
      encrypted: true,
      tx: {},
      rx: {},
      drops: { '<b>x</b>': 1 },
      records: { sealed: '<img>', opened: null },
    };
    r.schemes[2].encapCounters = { h1: odd as never, h2: { ...odd, records: 'x' } as never };
    const page = renderHtml(r);
    expect(page).not.toMatch(/<img|<b>x/);
    expect(() => csvFiles(r)).not.toThrow();
    expect(renderMarkdown(r)).not.toMatch(/<img|<b>/);
  });

  it('the compare page escapes what the files hold', () => {
    const page = renderCompareHtml(
      compareResults([
        { key: 'A', source: EVIL.scheme, result: real() },
        { key: 'B', source: 'b', result: malicious() },
      ]),
    );
    expect(page).not.toMatch(/<(img|iframe|svg onload|b onmouseover|script>)/i);
    expect(page).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;');
    expect(page).toMatch(/<b>Environments differ<\/b>/);
  });
});
