/**
 * A small etcd v3 client over etcd's JSON gRPC gateway (HTTP, Node's fetch; no dependency): range,
 * create-if-absent transaction, delete, leases (grant, keepalive, revoke) and a prefix watch.
 * Keys and values travel base64-encoded, as the gateway wants; int64 fields arrive as strings.
 */

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The range end that makes a range cover every key starting with `prefix` (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: string): string {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]++;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

export interface Kv {
  key: string;
  value: string;
  lease: string;
  modRevision: number;
}

interface RawKv {
  key?: string;
  value?: string;
  lease?: string;
  mod_revision?: string;
}

const kvOf = (k: RawKv): Kv => ({
  key: unb64(k.key),
  value: unb64(k.value),
  lease: k.lease ?? '0',
  modRevision: Number(k.mod_revision ?? 0),
});

export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  kv: Kv;
}

/** Pure: the events of one watch response message ({"result": {...}}), and whether it was the creation ack. */
export function parseWatchMessage(text: string): { events: WatchEvent[]; created: boolean; canceled: boolean } {
  const msg = JSON.parse(text) as {
    result?: { created?: boolean; canceled?: boolean; events?: Array<{ type?: string; kv?: RawKv }> };
    error?: unknown;
  };
  if (msg.error) throw new Error(`etcd watch: ${JSON.stringify(msg.error)}`);
  const r = msg.result ?? {};
  const events = (r.events ?? []).map((e) => ({
    type: e.type === 'DELETE' ? ('DELETE' as const) : ('PUT' as const),
    kv: kvOf(e.kv ?? {}),
  }));
  return { events, created: r.created === true, canceled: r.canceled === true };
}

/** Pure: "http://a:2379,http://b:2379" → the member URLs (etcdctl's --endpoints form). */
export function parseEndpoints(list: string): string[] {
  const out = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!out.length) throw new Error('no etcd endpoint');
  return out;
}

/**
 * One client for one member or a cluster: requests go to the current member; when it does not
 * answer (connection refused, timeout) or answers 5xx (no leader yet), the next member is tried,
 * and stays current. A watch runs on the current member; when it fails, the caller's next request
 * moves on.
 */
/**
 * Pure: the leader's endpoint from `etcdctl endpoint status -w fields` over several members (the
 * block whose MemberID is its Leader), or null. IDs are uint64: compared as text, never as numbers.
 */
export function leaderOf(fields: string): string | null {
  for (const block of fields.split(/\n\s*\n/)) {
    const get = (k: string) => new RegExp(`^"${k}" : "?([^"\\n]*)"?$`, 'm').exec(block)?.[1];
    const [id, leader, endpoint] = [get('MemberID'), get('Leader'), get('Endpoint')];
    if (id && endpoint && id === leader) return endpoint;
  }
  return null;
}

export class Etcd {
  private readonly endpoints: string[];
  private current = 0;

  constructor(endpoints: string) {
    this.endpoints = parseEndpoints(endpoints);
  }

  get endpoint(): string {
    return this.endpoints[this.current];
  }

  private next(): void {
    this.current = (this.current + 1) % this.endpoints.length;
  }

  private async call<T>(path: string, body: unknown, timeoutMs = 5000): Promise<T> {
    let failure: Error | undefined;
    for (let tried = 0; tried < this.endpoints.length; tried++) {
      let res: Response;
      try {
        res = await fetch(`${this.endpoint}${path}`, {
          method: 'POST',
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        failure = new Error(`etcd ${this.endpoint}${path}: ${(e as Error).message}`);
        this.next();
        continue;
      }
      const text = await res.text();
      if (res.status >= 500 && this.endpoints.length > 1) {
        failure = new Error(`etcd ${this.endpoint}${path}: HTTP ${res.status}: ${text.trim().slice(0, 200)}`);
        this.next();
        continue;
      }
      if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}: ${text.trim().slice(0, 200)}`);
      return JSON.parse(text) as T;
    }
    throw failure ?? new Error(`etcd ${path}: no member answered`);
  }

  /** Every key under a prefix, and the store's revision. */
  async rangePrefix(prefix: string): Promise<{ kvs: Kv[]; revision: number }> {
    const r = await this.call<{ header?: { revision?: string }; kvs?: RawKv[] }>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixEnd(prefix),
    });
    return { kvs: (r.kvs ?? []).map(kvOf), revision: Number(r.header?.revision ?? 0) };
  }

  async get(key: string): Promise<Kv | null> {
    const r = await this.call<{ kvs?: RawKv[] }>('/v3/kv/range', { key: b64(key) });
    return r.kvs?.length ? kvOf(r.kvs[0]) : null;
  }

  async put(key: string, value: string, lease?: string): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
  }

  /** Writes the key only if it does not exist (a transaction on its create revision); true when written. */
  async createIfAbsent(key: string, value: string, lease?: string): Promise<boolean> {
    const r = await this.call<{ succeeded?: boolean }>('/v3/kv/txn', {
      compare: [{ key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) } }],
    });
    return r.succeeded === true;
  }

  async delete(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  /** A lease of `ttl` seconds; its id (a decimal string). */
  async grant(ttl: number): Promise<string> {
    const r = await this.call<{ ID?: string; error?: string }>('/v3/lease/grant', { TTL: String(ttl) });
    if (!r.ID) throw new Error(`etcd lease grant: ${r.error ?? 'no lease id'}`);
    return r.ID;
  }

  /** Renews a lease once; its remaining TTL (0 or less: it has expired). */
  async keepAlive(id: string): Promise<number> {
    const r = await this.call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: id });
    return Number(r.result?.TTL ?? 0);
  }

  async revoke(id: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: id });
  }

  /** The lease's remaining TTL, seconds (-1 when it does not exist). */
  async timeToLive(id: string): Promise<number> {
    const r = await this.call<{ TTL?: string }>('/v3/lease/timetolive', { ID: id });
    return Number(r.TTL ?? -1);
  }

  /**
   * Watches every key under `prefix` from revision `from`, calling `onEvents` for each batch, until
   * `signal` aborts (resolves) or the stream ends or fails (rejects).
   */
  async watchPrefix(prefix: string, from: number, onEvents: (events: WatchEvent[]) => void, signal: AbortSignal): Promise<void> {
    const body = { create_request: { key: b64(prefix), range_end: prefixEnd(prefix), start_revision: String(from) } };
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}/v3/watch`, { method: 'POST', body: JSON.stringify(body), signal });
    } catch (e) {
      if (signal.aborted) return;
      this.next();
      throw e;
    }
    if (!res.ok || !res.body) {
      this.next();
      throw new Error(`etcd watch: HTTP ${res.status}`);
    }
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const m = parseWatchMessage(line);
          if (m.canceled) throw new Error('etcd watch: canceled by the server');
          if (m.events.length) onEvents(m.events);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      this.next();
      throw e;
    }
    if (signal.aborted) return;
    this.next();
    throw new Error(`etcd watch: the stream from ${this.endpoints.length > 1 ? 'a member' : 'etcd'} ended`);
  }
}
