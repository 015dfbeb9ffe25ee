import { readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { formatTable, parseTable, type Route } from './config.js';

/**
 * The daemon's peer table from a file a control plane writes (tun mode): read at start and again
 * whenever the file changes (inotify on its directory, so an atomic rename is seen too). What the
 * daemon applied is written beside it, `<file>.active`, the same format: the build waits on it and
 * a reader can see the daemon's table. A file that does not parse is logged and the table kept.
 */

export const activeTable = (file: string): string => `${file}.active`;

/** Writes a table atomically (a temporary file renamed over it): a reader never sees half of one. */
export function writeTable(file: string, routes: Route[]): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, formatTable(routes), { mode: 0o600 });
  renameSync(tmp, file);
}

export function followTable(file: string, apply: (routes: Route[]) => void, log: (line: string) => void): void {
  let last: string | null = null;
  const load = () => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // not written yet
    }
    if (text === last) return;
    try {
      const routes = parseTable(text);
      apply(routes);
      last = text;
      writeTable(activeTable(file), routes);
      log(
        `table ${file}: ${routes.length} route(s): ${routes.map((r) => `${r.block.network}/${r.block.prefix}→${r.peer}`).join(' ') || 'none'}`,
      );
    } catch (e) {
      log(`table ${file} not applied, keeping the previous one: ${(e as Error).message}`);
    }
  };
  const name = basename(file);
  watch(dirname(file), { persistent: false }, (_event, changed) => {
    if (changed === null || changed === name) load();
  });
  load();
}
