import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareResults } from '../src/report/compare-data.js';
import { renderCompareHtml } from '../src/report/compare-html.js';
import { writeReports } from '../src/report/write-reports.js';
import { launchChromium, openPage, type Opened } from './helpers/browser.js';
import { defaultRun, EVIL, full, malicious, real, synthetic } from './fixtures/results/synthetic.js';

/**
 * The HTML reports in real headless Chromium (Debian's package, driven by playwright-core), opened
 * from file:// with no network: no console errors, every chart drawn, legible at desktop and phone
 * widths, nothing from a hostile result file runs. Screenshots go to test-artifacts/.
 */

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const WIDTHS = [1280, 390];

let browser: Browser;
const pages: Record<string, string> = {};

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  pages.real = writeReports(real(), join(ARTIFACTS, 'report-real'))[0];
  pages.full = writeReports(full(), join(ARTIFACTS, 'report-full'))[0];
  pages.evil = writeReports(malicious(), join(ARTIFACTS, 'report-malicious'))[0];
  pages.default = writeReports(defaultRun(), join(ARTIFACTS, 'report-default'))[0];
  const b = synthetic({ host: [10, 10.2, 9.8], calico: [6, 6.2, 5.8], 'flannel-vxlan': [5, 5.1, 4.9], 'docker-bridge': [3, 3.1, 2.9] });
  b.environment.kernel = '6.1.0-99-amd64';
  pages.compare = join(ARTIFACTS, 'compare.html');
  writeFileSync(
    pages.compare,
    renderCompareHtml(
      compareResults([
        { key: 'A', source: 'real-4schemes', result: real() },
        { key: 'B', source: 'synthetic', result: b },
      ]),
    ),
  );
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

const open = (file: string, width: number): Promise<Opened> => openPage(browser, file, width);

/** Per chart: the visible SVG's drawn size, its path count and its text's rendered font size. */
function chartStats(page: Page) {
  return page.$$eval('figure.chart', (figs) =>
    figs.map((f) => {
      const visible = [...f.querySelectorAll<HTMLElement>('.svg')].filter((d) => d.offsetParent !== null);
      const svg = visible[0]?.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      const viewBox = Number(svg?.getAttribute('viewBox')?.split(' ')[2] ?? 0);
      const scale = box && viewBox ? box.width / viewBox : 0;
      const sizes = [...(svg?.querySelectorAll('text') ?? [])].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
      // ECharts marks the elements that draw data (bars, lines, points, whiskers) as "chart".
      const data = [...(svg?.querySelectorAll('[ecmeta_ssr_type="chart"]') ?? [])].filter((e) => {
        const b = (e as SVGGraphicsElement).getBBox?.();
        return !b || b.width > 0 || b.height > 0;
      }).length;
      return {
        id: f.getAttribute('data-chart'),
        visible: visible.length,
        data,
        paths: svg?.querySelectorAll('path').length ?? 0,
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        minText: Math.min(...sizes),
        texts: sizes.length,
      };
    }),
  );
}

/** The smallest computed font size among visible text-bearing HTML elements. */
function smallestHtmlText(page: Page) {
  return page.$$eval('main p, main li, main td, main th, main span, main a, main summary, main h1, main h2, main h3', (els) =>
    Math.min(
      ...els
        .filter((e) => (e as HTMLElement).offsetParent !== null && e.textContent!.trim())
        .map((e) => parseFloat(getComputedStyle(e).fontSize)),
    ),
  );
}

describe.each(WIDTHS)('report at %i px', (width) => {
  it.each([
    ['real', 6],
    ['full', 26],
  ])('%s run: opens from file:// with no console error or network request, every chart drawn, legible', async (name, count) => {
    const { page, problems } = await open(pages[name], width);
    try {
      const charts = await chartStats(page);
      expect(charts).toHaveLength(count);
      if (name === 'real')
        expect(charts.map((c) => c.id)).toEqual(['throughput-cross', 'throughput-same', 'vs-host', 'cpu-cross', 'cpu-same', 'udp-loss']);
      for (const c of charts) {
        expect(c.visible, `${c.id}: exactly one layout shown`).toBe(1);
        expect(c.data, `${c.id}: data drawn`).toBeGreaterThanOrEqual(3);
        expect(c.paths, `${c.id}: axes and data drawn`).toBeGreaterThan(6);
        expect(c.width, `${c.id}: width`).toBeGreaterThan(width > 600 ? 600 : 300);
        expect(c.height, `${c.id}: height`).toBeGreaterThan(120);
        expect(c.texts, `${c.id}: labelled`).toBeGreaterThan(5);
        expect(c.minText, `${c.id}: chart text size`).toBeGreaterThanOrEqual(10.5);
      }
      const layout = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
      expect(layout.scroll).toBeLessThanOrEqual(width + 1);
      expect(layout.body).toBeLessThanOrEqual(width + 1);
      expect(await smallestHtmlText(page)).toBeGreaterThanOrEqual(12);
      // The path of every scheme, and the verdict, are on the page.
      expect(await page.locator('ol.path').count()).toBeGreaterThanOrEqual(6);
      expect(await page.locator('#verdict li').count()).toBeGreaterThanOrEqual(8);
      await page.screenshot({ path: join(ARTIFACTS, `report-${name}-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a hostile result file renders as text and runs nothing', async () => {
    const { page, problems } = await open(pages.evil, width);
    try {
      await page.hover('text=window.__pwned=1', { strict: false, timeout: 2000 }).catch(() => {});
      await page.mouse.move(10, 10);
      const state = await page.evaluate(() => ({
        pwned: (window as unknown as { __pwned?: unknown }).__pwned,
        injected: document.querySelectorAll('main img, main iframe, main script, main b[onmouseover], svg[onload]').length,
        text: document.body.innerText,
        visible: getComputedStyle(document.querySelector('main')!).display,
      }));
      expect(state.pwned).toBeUndefined();
      expect(state.injected).toBe(0);
      expect(state.visible).not.toBe('none');
      expect(state.text).toContain(EVIL.scheme);
      expect(state.text).toContain(EVIL.error);
      await page.screenshot({ path: join(ARTIFACTS, `report-malicious-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('compare page: no errors, charts drawn, no overflow', async () => {
    const { page, problems } = await open(pages.compare, width);
    try {
      const charts = await chartStats(page);
      expect(charts.length).toBeGreaterThanOrEqual(1);
      for (const c of charts) expect(c.data, `${c.id}`).toBeGreaterThanOrEqual(3);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width + 1);
      expect(await page.locator('.banner').innerText()).toContain('Environments differ');
      await page.screenshot({ path: join(ARTIFACTS, `compare-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

it('the raw result and the CSVs are files beside the page, downloadable by their names', async () => {
  const { page, problems } = await open(pages.real, 1280);
  try {
    expect(await page.getAttribute('a[download="result.json"]', 'href')).toBe('result.json');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[download="summary.csv"]')]);
    expect(download.suggestedFilename()).toBe('summary.csv');
    expect(await page.getAttribute('a[download="report.md"]', 'href')).toBe('report.md');
    expect(problems).toEqual([]);
  } finally {
    await page.close();
  }
});

it('a default run: stand-in marks with their legend, the latency section, the time series, nothing wider than 1280 px', async () => {
  const { page, problems } = await open(pages.default, 1280);
  try {
    // Every stand-in carries the mark in the results table, and the legend says what it means.
    const marked = await page.$$eval('table.results td:first-child', (tds) =>
      tds.filter((td) => td.textContent!.endsWith('†')).map((td) => td.textContent),
    );
    expect(marked).toEqual(['calico†', 'flannel-udp†', 'ovs†', 'weave-fastdp†']);
    expect(await page.locator('#results .legend').innerText()).toContain('† stand-in');
    expect(await page.locator('#verdict .legend').innerText()).toContain('† stand-in');
    expect(await page.locator('.verdict-table th', { hasText: 'stand-ins†' }).count()).toBe(1);
    expect(await page.locator('.card .standin').count()).toBe(4);
    // The default run's latency test (qperf udp-lat) has its own section with a table and a chart.
    const latency = page.locator('section#latency');
    expect(await latency.locator('h2').innerText()).toBe('Latency');
    expect(await latency.locator('tbody tr').count()).toBe(7);
    expect(await latency.locator('figure.chart').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('figure[data-chart="time-gbps-cross"]').count()).toBe(1);
    // Same-host ratios say they are against loopback.
    expect(await page.locator('#results').innerText()).toContain('loopback');
    // Nothing overflows, with every collapsed part open: the page, and no element sticks out past the viewport.
    const overflow = await page.evaluate(() => {
      for (const d of document.querySelectorAll('details')) d.open = true;
      const wide = [...document.querySelectorAll('main *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.tablewrap'))
        .map((e) => e.tagName + '.' + (e as HTMLElement).className);
      const scrolled = [...document.querySelectorAll('.tablewrap')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1)
        .map((e) => e.parentElement!.id || e.previousElementSibling?.textContent);
      return { page: document.documentElement.scrollWidth, wide, scrolled };
    });
    expect(overflow.page).toBeLessThanOrEqual(1280);
    expect(overflow.wide).toEqual([]);
    expect(overflow.scrolled).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-default-1280.png'), fullPage: true });
    expect(problems).toEqual([]);
  } finally {
    await page.close();
  }
});
