import type { Evidence, Verdict } from '../../result/verify.js';
import { captureMarker, PYTHON, TCPDUMP } from '../traffic.js';
import type { Probe } from '../types.js';
import { classify, markerSeen, parseTcpdumpHex } from '../wire.js';
import type { WireData } from './network-model.js';

type EncryptionData = WireData & { marker: string };

/** Probe 2: a random marker sent between containers; is it readable on the underlay? */
export const encryption: Probe<EncryptionData> = {
  aspect: 'encryption',
  name: 'marker',
  title: 'Encryption: the marker payload on the wire',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  requires: [TCPDUMP, PYTHON],
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  run: async (ctx) => ({ ...(await captureMarker(ctx)), marker: ctx.marker }),
  judge(e: Evidence<EncryptionData>): Verdict {
    const frames = parseTcpdumpHex(e.data.capture);
    const c = classify(frames, e.data);
    if (!c) return { mark: 'not-run', text: 'not run: the datagram was not seen on the underlay' };
    if (markerSeen(frames, e.data.marker)) return { mark: 'no', key: 'plaintext', text: 'no: the marker is readable on the underlay' };
    if (c.innerSourceIsContainer !== undefined)
      return { mark: 'no', key: 'plaintext', text: 'no: marker hidden but the inner header is readable' };
    return { mark: 'yes', key: 'encrypted', text: 'yes: no marker and no inner header on the underlay' };
  },
};
