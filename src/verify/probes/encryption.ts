import type { Evidence, Verdict } from '../../result/verify.js';
import { tamperOutcome, tamperTest, type TamperData } from '../tamper.js';
import { captureMarker, PYTHON, TCPDUMP } from '../traffic.js';
import type { Probe } from '../types.js';
import { classify, markerSeen, parseTcpdumpHex } from '../wire.js';
import type { WireData } from './network-model.js';

type EncryptionData = WireData & { marker: string; tamper?: TamperData };

/**
 * Probe 2: a random marker sent between containers; is it readable on the underlay? And when the
 * datagram is cnlab's sealed records: is an altered copy injected on the underlay refused?
 */
export const encryption: Probe<EncryptionData> = {
  aspect: 'encryption',
  name: 'marker',
  title: 'Encryption: the marker payload on the wire, a tampered datagram',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  requires: [TCPDUMP, PYTHON],
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  async run(ctx) {
    const wire = await captureMarker(ctx);
    const frames = parseTcpdumpHex(wire.capture);
    const c = classify(frames, wire);
    const sealed = c?.kind === 'sealed' && c.frame !== undefined && !markerSeen(frames, ctx.marker);
    return { ...wire, marker: ctx.marker, ...(sealed ? { tamper: await tamperTest(ctx, frames[c.frame!]) } : {}) };
  },
  judge(e: Evidence<EncryptionData>): Verdict {
    const frames = parseTcpdumpHex(e.data.capture);
    const c = classify(frames, e.data);
    if (!c) return { mark: 'not-run', text: 'not run: the datagram was not seen on the underlay' };
    if (markerSeen(frames, e.data.marker)) return { mark: 'no', key: 'plaintext', text: 'no: the marker is readable on the underlay' };
    if (c.innerSourceIsContainer !== undefined)
      return { mark: 'no', key: 'plaintext', text: 'no: marker hidden but the inner header is readable' };
    if (!e.data.tamper)
      return { mark: 'value', key: 'hidden', text: 'marker and inner header hidden; tamper not tested (not sealed records)' };
    const t = tamperOutcome(e.data.tamper);
    if (t.status === 'incomplete') return { mark: 'not-run', text: `not run: marker hidden, but ${t.text}` };
    if (t.status === 'accepted') return { mark: 'no', key: 'unauthenticated', text: `no: marker hidden, but ${t.text}`, detail: t.text };
    return { mark: 'yes', key: 'encrypted', text: 'yes: no marker, no inner header, tampered datagram dropped', detail: t.text };
  },
};
