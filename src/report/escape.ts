/**
 * Escaping for everything that goes from a result file into a report. Result files come from
 * anywhere (a colleague's run, an attachment on an issue): every string in them is untrusted.
 */

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Terminal colour sequences and other control characters (tools' error output carries them). */
// eslint-disable-next-line no-control-regex
const CONTROL = /\u001b\[[0-9;?]*[A-Za-z]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
export const plain = (value: unknown): string => String(value ?? '').replace(CONTROL, '');

/** Text for HTML element content and double- or single-quoted attribute values. */
export function esc(value: unknown): string {
  return plain(value).replace(/[&<>"']/g, (c) => HTML[c]);
}

/**
 * JSON safe to embed inside <script type="application/json">: `<`, `>`, `&` and the line
 * separators U+2028/2029 become \u escapes, so no `</script>` or `<!--` can appear in it.
 */
export function jsonForHtml(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A download link target: the bytes as a base64 data: URL (no script needed to save it). */
export function dataUrl(mime: string, text: string): string {
  return `data:${mime};charset=utf-8;base64,${Buffer.from(text, 'utf8').toString('base64')}`;
}

/** Markdown table cell: no pipes, no newlines, no raw HTML. */
export function mdCell(value: unknown): string {
  return plain(value)
    .replace(/[\r\n]+/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'));
}

/** A stable, safe id fragment for anchors (scheme names are validated, but be strict anyway). */
export function slug(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'x'
  );
}
