/**
 * Pure: plain text columns with a header row, each column as wide as its widest cell; the last
 * column is cut with … to fit `width` (default $COLUMNS, else 120) when the others leave room.
 */
export function renderColumns(head: string[], rows: string[][], width = Number(process.env.COLUMNS) || 120): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  const room = width - fixed;
  const last = (text: string) => (room >= 24 && [...text].length > room ? `${[...text].slice(0, room - 1).join('')}…` : text);
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? last(c ?? '') : (c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return `${all.map(line).join('\n')}\n`;
}
