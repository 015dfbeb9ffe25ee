import type { NftStep, Step } from '../plan/types.js';
import { readIn } from './live.js';
import { inNs, type Finding } from './types.js';

/**
 * Filters and NAT: the nftables rulesets the plan loads, against `nft list ruleset`. A base chain
 * on the forward hook with policy drop that the plan does not have (someone's firewall) is named
 * with a fix setting it to accept; a rule of the plan's missing from its chain (a DNAT rule for a
 * published port, gone after a firewall restart) is named with `nft add rule` putting it back.
 */

export interface Chain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  policy?: string;
  rules: string[];
}

/** Pure: a ruleset in nft's text form (the plan's or `nft list ruleset`) → its chains. */
export function parseRuleset(text: string): Chain[] {
  const chains: Chain[] = [];
  let table: { family: string; name: string } | undefined;
  let chain: Chain | undefined;
  // One statement per line; a chain's header may share the `chain X {` line (as plans write it).
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    const t = /^table (\S+) (\S+) \{$/.exec(line);
    if (t) {
      table = { family: t[1], name: t[2] };
      continue;
    }
    const c = /^chain (\S+) \{(.*)$/.exec(line);
    if (c && table) {
      chain = { family: table.family, table: table.name, name: c[1], rules: [] };
      chains.push(chain);
      line = c[2].trim();
      if (!line) continue;
    }
    if (line === '}') {
      if (chain) chain = undefined;
      else table = undefined;
      continue;
    }
    if (!chain || !line) continue;
    const hook = /\bhook (\S+)/.exec(line);
    const policy = /\bpolicy (\w+);/.exec(line);
    if (/^type \S+ hook /.test(line) || /^policy \w+;$/.test(line)) {
      if (hook) chain.hook = hook[1];
      if (policy) chain.policy = policy[1];
      continue;
    }
    chain.rules.push(normaliseRule(line));
  }
  return chains;
}

/** Pure: a rule without its live counters (`counter packets N bytes M` → `counter`). */
export function normaliseRule(rule: string): string {
  return rule
    .replace(/\bcounter packets \d+ bytes \d+/, 'counter')
    .replace(/\s+/g, ' ')
    .trim();
}

const key = (c: Pick<Chain, 'family' | 'table' | 'name'>) => `${c.family} ${c.table} ${c.name}`;

/** Pure: the plan's chains and the live ones of namespace NS → findings. */
export function judgeNft(ns: string, planned: readonly Chain[], live: readonly Chain[]): Finding[] {
  const out: Finding[] = [];
  const plannedByKey = new Map(planned.map((c) => [key(c), c]));
  for (const c of live) {
    if (c.hook !== 'forward' || c.policy !== 'drop') continue;
    if (plannedByKey.get(key(c))?.policy === 'drop') continue;
    out.push({
      check: 'nft',
      rank: 15,
      what: `${ns}: chain ${c.family} ${c.table} ${c.name} on the forward hook drops by policy: forwarded packets the lab's rules do not accept are dropped`,
      evidence: `nft list ruleset: chain ${c.name} { type filter hook forward …; policy drop; } with ${c.rules.length} rules`,
      fix: [inNs(ns, ['nft', 'chain', c.family, c.table, c.name, '{', 'policy', 'accept', ';', '}'])],
    });
  }
  const liveByKey = new Map(live.map((c) => [key(c), c]));
  for (const p of planned) {
    const l = liveByKey.get(key(p));
    if (!l) {
      out.push({
        check: 'nft',
        rank: 16,
        what: `${ns}: chain ${key(p)} of the plan is gone${p.rules.some((r) => / dnat /.test(` ${r} `)) ? ' (with its DNAT rules)' : ''}`,
        evidence: `nft list ruleset has no chain ${p.name} in table ${p.family} ${p.table}`,
        fix: [],
      });
      continue;
    }
    if (l.rules.length >= p.rules.length) continue;
    const missing = p.rules.filter((r) => !l.rules.includes(r));
    for (const r of missing)
      out.push({
        check: 'nft',
        rank: / dnat /.test(` ${r} `) ? 16 : 17,
        what: `${ns}: ${/ dnat /.test(` ${r} `) ? 'DNAT rule' : 'rule'} missing from chain ${key(p)}: ${r}`,
        evidence: `nft list chain ${key(p)}: ${l.rules.length} rules, the plan has ${p.rules.length}`,
        fix: [inNs(ns, ['nft', 'add', 'rule', p.family, p.table, p.name, ...r.split(' ')])],
      });
  }
  return out;
}

export async function checkNft(steps: readonly Step[], namespaces: readonly string[]): Promise<Finding[]> {
  const planned = new Map<string, Chain[]>();
  for (const s of steps) if (s.kind === 'nft') planned.set(s.ns, [...(planned.get(s.ns) ?? []), ...parseRuleset((s as NftStep).ruleset)]);
  const all = await Promise.all(
    namespaces.map(async (ns) => {
      const out = await readIn(ns, 'nft', ['list', 'ruleset']).catch(() => null);
      return out === null ? [] : judgeNft(ns, planned.get(ns) ?? [], parseRuleset(out));
    }),
  );
  return all.flat();
}
