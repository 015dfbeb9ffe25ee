/** The report page's stylesheet: print-friendly, readable from 360 px phones to wide screens. */
export const CSS = `
:root { --ink:#111827; --muted:#4B5563; --faint:#6B7280; --line:#E5E7EB; --bg:#FFFFFF; --panel:#F9FAFB; --accent:#1D4ED8;
  --ok:#047857; --bad:#B91C1C; --warn:#B45309; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 20px 16px 48px; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.05rem; margin: 18px 0 6px; }
figure h3, .card h3, .verdict h3:first-child { margin-top: 0; }
p { margin: 6px 0; }
a { color: var(--accent); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace; font-size: 0.86em; }
.sub { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
.banner { margin: 12px 0; padding: 10px 12px; border-left: 4px solid var(--warn); background: #FFFBEB; }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px 14px; margin: 14px 0 0; padding: 8px 0; border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); font-size: 0.92rem; }
nav.toc a { text-decoration: none; }
.verdict { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.verdict ul, .verdict ol { margin: 6px 0; padding-left: 22px; }
.verdict li { margin: 4px 0; }
.caveats li { color: var(--muted); }
.tablewrap { overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: top; }
td:first-child { white-space: nowrap; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
tr.off td { color: var(--faint); white-space: normal; overflow-wrap: anywhere; }
tr.off .reason { margin-left: 6px; }
.g0 { background: #FEE2E2; color: #991B1B; } .g1 { background: #FFEDD5; color: #9A3412; } .g2 { background: #FEF9C3; color: #854D0E; }
.g3 { background: #ECFCCB; color: #3F6212; } .g4 { background: #DCFCE7; color: #166534; }
.mark { color: #B45309; font-weight: 700; margin-left: 1px; }
.legend { font-size: 0.88rem; color: var(--muted); margin: 6px 0; }
.standin { margin: 6px 0; padding: 6px 10px; border-left: 4px solid #F59E0B; background: #FFFBEB; font-size: 0.92rem; overflow-wrap: anywhere; }
.headline { font-size: 1.08rem; font-weight: 500; margin: 4px 0 10px; padding: 8px 12px; border-left: 4px solid var(--accent); background: #EFF6FF; overflow-wrap: anywhere; }
.verdict-table th { white-space: normal; } .verdict-table th[scope=row] { width: 22%; font-weight: 600; }
.verdict-table td { white-space: normal; width: 26%; }
.chip { display: inline-block; margin: 2px 4px 2px 0; padding: 1px 7px; border-radius: 6px; background: #F3F4F6; white-space: nowrap; }
.chip b { font-weight: 600; }
.verdict details.more { margin-top: 10px; }
details.matrix { border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; }
details.matrix[open] summary { margin-bottom: 6px; }
details.matrix th, details.matrix td { white-space: normal; overflow-wrap: anywhere; font-size: 0.85rem; padding: 4px 5px; }
table.wrap th { white-space: normal; }
details.matrix td:first-child, details.matrix th:first-child { white-space: nowrap; }
.layouts { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.85rem; color: var(--muted); margin: 4px 0 0; }
.layouts i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.sig-bad { color: var(--bad); font-weight: 600; }
.sig-good { color: var(--ok); font-weight: 600; }
.ns { color: var(--faint); }
.fail { color: var(--bad); font-size: 0.88rem; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.78rem; font-weight: 600; background: #EEF2FF; color: #3730A3; white-space: nowrap; }
.badge.overlay { background: #F3E8FF; color: #6B21A8; } .badge.routed { background: #ECFDF5; color: #065F46; }
.badge.l2 { background: #EFF6FF; color: #1E40AF; } .badge.nat { background: #FFF7ED; color: #9A3412; }
.badge.host { background: #F3F4F6; color: #374151; } .badge.unknown, .badge.off { background: #F3F4F6; color: #6B7280; }
.charts { display: grid; grid-template-columns: 1fr; gap: 18px; }
figure.chart { margin: 0; padding: 12px 14px; border: 1px solid var(--line); border-radius: 8px; min-width: 0; }
figure.chart figcaption p { color: var(--muted); font-size: 0.88rem; }
figure.chart .svg { margin-top: 8px; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
.svg.medium, .svg.narrow { display: none; }
@media (max-width: 1023px) { .svg.wide { display: none; } .svg.medium { display: block; } }
.cards { display: grid; grid-template-columns: 1fr; gap: 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
.card header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 10px; }
.card h3 { font-size: 1.1rem; margin: 0; overflow-wrap: anywhere; }
.card .summary { color: var(--muted); font-size: 0.92rem; overflow-wrap: anywhere; }
.card ul { margin: 6px 0; padding-left: 20px; }
.card li { margin: 2px 0; overflow-wrap: anywhere; }
.kv { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 0.9rem; color: var(--muted); margin: 6px 0; }
.kv b { color: var(--ink); font-weight: 600; }
ol.path { list-style: none; display: flex; flex-wrap: wrap; align-items: stretch; gap: 6px 0; padding: 0; margin: 8px 0; }
ol.path li { display: flex; align-items: center; }
ol.path li + li::before { content: '→'; color: var(--faint); padding: 0 6px; font-size: 1.1rem; }
.hop { display: inline-flex; flex-direction: column; padding: 4px 9px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); max-width: 260px; }
.hop .l { font-weight: 600; font-size: 0.88rem; overflow-wrap: anywhere; }
.hop .d { font-size: 0.76rem; color: var(--muted); line-height: 1.3; }
.hop.container { border-color: #93C5FD; background: #EFF6FF; } .hop.bridge, .hop.ovs, .hop.macvlan { border-color: #5EEAD4; background: #F0FDFA; }
.hop.routing { border-color: #D1D5DB; } .hop.nat { border-color: #FDBA74; background: #FFF7ED; }
.hop.tunnel { border-color: #C4B5FD; background: #F5F3FF; } .hop.userspace { border-color: #FCA5A5; background: #FEF2F2; }
.hop.underlay { border-color: #9CA3AF; background: #F3F4F6; } .hop.peer { border-style: dashed; background: #FFF; }
.pathlabel { font-size: 0.8rem; color: var(--faint); text-transform: uppercase; letter-spacing: 0.04em; margin-top: 8px; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--accent); }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow-x: auto; white-space: pre; }
.downloads { display: flex; flex-wrap: wrap; gap: 8px; }
.downloads a { display: inline-block; padding: 6px 12px; border: 1px solid var(--accent); border-radius: 6px; text-decoration: none; font-weight: 600; }
footer { margin-top: 40px; color: var(--faint); font-size: 0.85rem; }
@media (max-width: 620px) {
  body { font-size: 15px; }
  main { padding: 14px 12px 40px; }
  h1 { font-size: 1.35rem; }
  .svg.wide, .svg.medium { display: none; } .svg.narrow { display: block; }
  figure.chart { padding: 10px 8px; }
  th, td { padding: 5px 7px; }
  .verdict-table thead { display: none; }
  .verdict-table tr, .verdict-table th[scope=row], .verdict-table td { display: block; width: auto; border: 0; }
  .verdict-table tr { border-bottom: 1px solid var(--line); padding: 4px 0; }
  .verdict-table td::before { content: attr(data-label); display: block; font-size: 0.8rem; color: var(--faint); }
}
@media print { nav.toc, .downloads { display: none; } figure.chart, .card { break-inside: avoid; } }
`;

/** Scripts are off: the page is static SVG and text, and a hostile result file cannot run code. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; base-uri 'none'; form-action 'none'";

/** The document head every cnlab page shares; `title` and `generator` arrive already escaped. */
export function pageHead(title: string, generator?: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
${generator ? `<meta name="generator" content="${generator}">\n` : ''}<title>${title}</title>
<style>${CSS}</style>
</head>`;
}
