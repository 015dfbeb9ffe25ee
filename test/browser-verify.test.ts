import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReports } from '../src/report/write-reports.js';
import { readResult } from '../src/result/read.js';
import type { VerifySection } from '../src/result/verify.js';
import { launchChromium, openPage } from './helpers/browser.js';

/**
 * The report of a `cnlab verify` run in real headless Chromium: the matrix (aspects × schemes), and
 * every cell's evidence (the commands its probe ran, their output) one click away in <details>, at
 * desktop and phone widths, with no console error or network request. The result file is one
 * `cnlab verify weave-sleeve-encrypted docker-overlay` wrote on this box (captures trimmed).
 */

const FIXTURE = fileURLToPath(new URL('./fixtures/verify/result-verify.json', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

let browser: Browser;
let page: string;
let verify: VerifySection;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const result = readResult(FIXTURE);
  verify = result.verify!;
  page = writeReports(result, join(ARTIFACTS, 'report-verify'))[0];
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe.each([1280, 390])('verify report at %i px', (width) => {
  it('shows the matrix; each cell opens to its evidence; no console error, no network', async () => {
    const { page: p, problems } = await openPage(browser, page, width);
    try {
      const matrix = p.locator('table#verify-matrix');
      expect(await matrix.count()).toBe(1);
      expect(await matrix.locator('thead th').allInnerTexts()).toEqual(['aspect', ...verify.schemes]);
      expect(await matrix.locator('tbody tr > th').allInnerTexts()).toEqual(verify.aspects);
      expect(verify.cells.length).toBeGreaterThanOrEqual(6);
      for (const c of verify.cells) {
        const cell = matrix.locator(`td[data-aspect="${c.aspect}"][data-scheme="${c.scheme}"]`);
        expect(await cell.count(), `${c.aspect} × ${c.scheme}`).toBe(1);
        expect(await cell.locator('.answer').innerText()).toContain(c.text.slice(0, 20));
        const details = cell.locator('details');
        const evidence = details.locator('.evidence');
        expect(await details.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
        expect(await evidence.isVisible()).toBe(false);
        // Keyboard first: the summary takes focus and Enter opens it; a click closes it again.
        await details.locator('summary').focus();
        await p.keyboard.press('Enter');
        expect(await details.evaluate((d) => (d as HTMLDetailsElement).open), `${c.aspect} × ${c.scheme} opens`).toBe(true);
        expect(await evidence.isVisible()).toBe(true);
        const shown = await evidence.innerText();
        for (const cmd of c.evidence.commands.slice(0, 3)) expect(shown).toContain(cmd.argv[0]);
        if (c.detail) expect(shown).toContain(c.detail.slice(0, 30));
        await details.locator('summary').click();
        expect(await evidence.isVisible()).toBe(false);
      }
      // Cells answer in a few words; the matrix may scroll sideways inside its box, the page may not.
      expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width + 1);
      await p.screenshot({ path: join(ARTIFACTS, `report-verify-${width}.png`), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
