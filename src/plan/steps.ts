import type { Step } from './types.js';

/** Tiny constructors so scheme files read like the commands they stand for. */
export const ip = (ns: string, ...args: string[]): Step => ({ kind: 'ip', ns, args });
export const bridgeCmd = (ns: string, ...args: string[]): Step => ({ kind: 'bridge', ns, args });
export const tc = (ns: string, ...args: string[]): Step => ({ kind: 'tc', ns, args });
export const sysctl = (ns: string, key: string, value: string | number): Step => ({ kind: 'sysctl', ns, key, value: String(value) });
export const nft = (ns: string, ruleset: string): Step => ({ kind: 'nft', ns, ruleset });
