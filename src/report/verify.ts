/**
 * The `verify` matrix (result/verify.ts): aspects as rows, schemes as columns, each cell the
 * measured answer and whether it agrees with the product's claim; as terminal text, Markdown and
 * HTML with each cell's evidence (the commands a probe ran and their output) in <details>.
 */
import Table from 'cli-table3';
import type { VerifyCell, VerifySection } from '../result/verify.js';
import { esc, mdCell, plain, slug } from './escape.js';
import { pageHead } from './html-style.js';

const MARK: Record<VerifyCell['mark'], string> = { yes: '✓', no: '✗', value: '', 'not-run': '' };

const cellOf = (v: VerifySection, aspect: string, scheme: string) => v.cells.find((c) => c.aspect === aspect && c.scheme === scheme);

/** One cell as short text: mark and answer, then the claim agreement. */
export function cellText(c: VerifyCell | undefined): string {
  if (!c) return '—';
  const mark = MARK[c.mark] ? `${MARK[c.mark]} ` : '';
  const agree = c.agrees === undefined ? '' : c.agrees ? ' [agrees with claim]' : ' [DISAGREES with claim]';
  const stand = c.standIns?.length ? ' (stand-in)' : '';
  return `${mark}${plain(c.text)}${stand}${agree}`;
}

/** A cell in a few characters for the terminal grid: mark and answer key; "≠claim" when it disagrees. */
export function cellShort(c: VerifyCell | undefined): string {
  if (!c) return '—';
  if (c.mark === 'not-run') return 'not run';
  const mark = MARK[c.mark] ? `${MARK[c.mark]} ` : '';
  const claim = c.agrees === undefined ? '' : c.agrees ? ' =claim' : ' ≠claim';
  return `${mark}${plain(c.key ?? c.text.slice(0, 12))}${c.standIns?.length ? '*' : ''}${claim}`;
}

/**
 * Terminal text: first the matrix as S5 lays it out (aspects as rows, schemes as columns), each
 * cell in a few characters; then, wide cells not fitting a grid, one block per aspect with the
 * full answer for each scheme.
 */
export function renderVerifyText(v: VerifySection): string {
  const grid = new Table({
    head: ['aspect', ...v.schemes],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const a of v.aspects) grid.push([a, ...v.schemes.map((s) => cellShort(cellOf(v, a, s)))]);
  const standIn = v.cells.some((c) => c.standIns?.length) ? '* built with a stand-in (named below)\n' : '';
  const out: string[] = [];
  for (const a of v.aspects) {
    out.push(a);
    for (const s of v.schemes) out.push(`  ${s.padEnd(30)} ${cellText(cellOf(v, a, s))}`);
  }
  out.push(v.allRan ? 'every probe ran' : `not run: ${v.cells.filter((c) => c.mark === 'not-run').length} cells`);
  return `${grid.toString()}\n${standIn}\n${out.join('\n')}\n`;
}

function evidenceMd(c: VerifyCell): string {
  const lines = [`#### ${mdCell(c.aspect)} · ${mdCell(c.scheme)}`, '', `${mdCell(cellText(c))}`];
  if (c.claim) lines.push('', `Claim (${mdCell(c.claim.product)}): ${mdCell(c.claim.text)} — ${mdCell(c.claim.source)}`);
  if (c.detail) lines.push('', mdCell(c.detail));
  if (c.standIns?.length) lines.push('', `Stand-ins: ${c.standIns.map(mdCell).join('; ')}`);
  if (c.evidence.buildError) lines.push('', `Build failed: ${mdCell(c.evidence.buildError)}`);
  for (const cmd of c.evidence.commands) {
    const fence = '~~~~~~~~';
    lines.push('', fence, `[${plain(cmd.node ?? '')}]$ ${plain(cmd.argv.join(' '))}   (exit ${cmd.code ?? 'killed'})`);
    lines.push(plain(cmd.stdout).replace(/~{8,}/g, '~'), plain(cmd.stderr).replace(/~{8,}/g, '~'), fence);
  }
  return lines.join('\n');
}

export function renderVerifyMarkdown(v: VerifySection): string {
  const head = `| aspect | ${v.schemes.map(mdCell).join(' | ')} |`;
  const rule = `|---|${v.schemes.map(() => '---').join('|')}|`;
  const rows = v.aspects.map((a) => `| ${mdCell(a)} | ${v.schemes.map((s) => mdCell(cellText(cellOf(v, a, s)))).join(' | ')} |`);
  const evidence = v.cells.map(evidenceMd);
  return `# cnlab verify\n\n${head}\n${rule}\n${rows.join('\n')}\n\n## Evidence\n\n${evidence.join('\n\n')}\n`;
}

function cellHtml(c: VerifyCell | undefined): string {
  if (!c) return '<td>—</td>';
  const cls = `verify-${c.mark}${c.agrees === false ? ' verify-disagrees' : ''}`;
  const claim = c.claim
    ? `<p class="claim">claim (${esc(c.claim.product)}): ${esc(c.claim.text)} — <cite>${esc(c.claim.source)}</cite>${
        c.agrees === undefined ? '' : c.agrees ? ' <strong>agrees</strong>' : ' <strong>disagrees</strong>'
      }</p>`
    : '';
  const cmds = c.evidence.commands
    .map(
      (cmd) =>
        `<pre>[${esc(cmd.node ?? '')}]$ ${esc(cmd.argv.join(' '))}   (exit ${esc(cmd.code ?? 'killed')})\n${esc(cmd.stdout)}${cmd.stderr ? `\n${esc(cmd.stderr)}` : ''}</pre>`,
    )
    .join('');
  const extra = [
    c.detail ? `<p>${esc(c.detail)}</p>` : '',
    c.standIns?.length ? `<p class="stand-in">stand-in: ${c.standIns.map(esc).join('; ')}</p>` : '',
    c.evidence.buildError ? `<p>build failed: ${esc(c.evidence.buildError)}</p>` : '',
  ].join('');
  return `<td class="${cls}" id="v-${slug(c.aspect)}-${slug(c.scheme)}" data-aspect="${esc(c.aspect)}" data-scheme="${esc(c.scheme)}"><span class="answer">${esc(cellText(c))}</span>${claim}<details><summary>evidence (${c.evidence.commands.length} commands)</summary><div class="evidence">${extra}${cmds}</div></details></td>`;
}

export function renderVerifyHtml(v: VerifySection, generator?: string): string {
  const head = `<tr><th>aspect</th>${v.schemes.map((s) => `<th>${esc(s)}</th>`).join('')}</tr>`;
  const rows = v.aspects.map((a) => `<tr><th>${esc(a)}</th>${v.schemes.map((s) => cellHtml(cellOf(v, a, s))).join('')}</tr>`);
  const style = `<style>.verify td{vertical-align:top;max-width:28em}.verify-yes .answer{color:#1a7f37}.verify-no .answer{color:#b42318}.verify-not-run{background:#fff4e5}.verify-disagrees{outline:2px solid #b42318}.verify pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;max-height:20em;overflow:auto}.verify-scroll{overflow-x:auto;max-width:100%}.verify td{min-width:14em}.verify tbody th,.verify thead th:first-child{position:sticky;left:0;background:#fff;z-index:1}</style>`;
  return `${pageHead('cnlab verify', generator ? esc(generator) : undefined)}
<body>${style}<main>
<h1>cnlab verify</h1>
<p>Each cell: the answer measured on the built lab (✓ / ✗ / a value), and whether it agrees with the product's claim. Open “evidence” for the commands the probe ran and their output.</p>
<div class="verify-scroll"><table class="verify" id="verify-matrix"><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table></div>
<p>${v.allRan ? 'Every probe ran.' : `${v.cells.filter((c) => c.mark === 'not-run').length} cells not run.`}</p>
</main></body></html>
`;
}
