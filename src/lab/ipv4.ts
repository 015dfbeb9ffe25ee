import ipaddr from 'ipaddr.js';
import type { Cidr } from './types.js';

/** Small IPv4 arithmetic on top of ipaddr.js's parsing. */

export function isIpv4(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

export function ipToInt(ip: string): number {
  const b = ipaddr.IPv4.parse(ip).octets;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parse "a.b.c.d/len"; returns null when malformed. The network address is normalised. */
export function parseCidr(text: string): Cidr | null {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  if (!m || !isIpv4(m[1])) return null;
  const prefix = Number(m[2]);
  if (prefix > 32) return null;
  return { network: intToIp((ipToInt(m[1]) & maskOf(prefix)) >>> 0), prefix };
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function cidrText(c: Cidr): string {
  return `${c.network}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

/** The address `offset` places after the network address. */
export function addrAt(c: Cidr, offset: number): string {
  if (offset < 0 || offset >= size(c)) throw new RangeError(`offset ${offset} outside ${cidrText(c)}`);
  return intToIp(ipToInt(c.network) + offset);
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && (ipToInt(inner.network) & maskOf(outer.prefix)) >>> 0 === ipToInt(outer.network);
}

export function containsIp(c: Cidr, ip: string): boolean {
  return (ipToInt(ip) & maskOf(c.prefix)) >>> 0 === ipToInt(c.network);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a);
}

/** The n-th (0-based) subnet of length `prefix` inside `c`. */
export function subnetAt(c: Cidr, prefix: number, n: number): Cidr {
  const count = 2 ** (prefix - c.prefix);
  if (prefix < c.prefix || n < 0 || n >= count) {
    throw new RangeError(`no subnet /${prefix} number ${n} in ${cidrText(c)}`);
  }
  return { network: intToIp(ipToInt(c.network) + n * 2 ** (32 - prefix)), prefix };
}

/** RFC 2544's benchmark range: the only addresses cnlab uses unless told otherwise. */
export const BENCHMARK_RANGE: Cidr = { network: '198.18.0.0', prefix: 15 };
