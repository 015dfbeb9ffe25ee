import type { SchemeRecord } from '../result/types.js';
import type { StandIn } from '../plan/types.js';

/**
 * Pure: which results come from a stand-in, read from the result file alone. A scheme's record
 * says so in `standIn` (what stands in for the product, and why), as the scheme or its build
 * declared it. Result files written before that field carry the same fact only in the scheme's
 * notes, which the schemes worded alike ("stand-in", "cnlab daemon", "approximation", "no BGP
 * daemon"); those notes are read as a fallback. Never decided from a scheme's name.
 */

/** The sign every report puts beside a stand-in's name and figures. */
export const STAND_IN_MARK = '†';

/** The legend, one sentence, for every report that shows a mark. */
export const STAND_IN_LEGEND = `${STAND_IN_MARK} stand-in: cnlab runs something else in place of the product's own component (named in its note), so its figures are not the product's; stand-ins are ranked apart from real datapaths.`;

/** Notes that declared a stand-in before result files had `standIn`. */
const LEGACY: Array<{ re: RegExp; what: string }> = [
  { re: /stand-?in|datapath_type=netdev/i, what: 'a stand-in datapath' },
  { re: /cnlab daemon|userspace encapsulation/i, what: "cnlab's own userspace encapsulation daemon" },
  { re: /^approximation/i, what: 'an approximation of the product datapath' },
  { re: /no BGP daemon|routes static/i, what: 'static routes written by the plan' },
];

export function standInOf(rec: Pick<SchemeRecord, 'notes'> & { standIn?: StandIn }): StandIn | undefined {
  if (rec.standIn) return rec.standIn;
  for (const n of rec.notes ?? []) {
    const hit = LEGACY.find((l) => l.re.test(n));
    if (hit) return { what: hit.what, why: n };
  }
  return undefined;
}

/** A scheme's name as every report shows it: with the mark when it is a stand-in. */
export function markedName(rec: Pick<SchemeRecord, 'name' | 'notes'> & { standIn?: StandIn }): string {
  return standInOf(rec) ? `${rec.name}${STAND_IN_MARK}` : rec.name;
}
