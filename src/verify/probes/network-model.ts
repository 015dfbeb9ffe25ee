import type { Evidence, Verdict } from '../../result/verify.js';
import { captureMarker, PYTHON, TCPDUMP } from '../traffic.js';
import type { Probe } from '../types.js';
import { classify, parseTcpdumpHex } from '../wire.js';

export interface WireData {
  capture: string;
  src: string;
  dst: string;
  hostSrc: string;
  innerLen: number;
}

/** Probe 1: one container-to-container datagram captured on host 1's underlay, classified. */
export const networkModel: Probe<WireData> = {
  aspect: 'network-model',
  name: 'wire',
  title: 'Network model, from the wire',
  needs: () => ({ hosts: 2, containersPerHost: 1 }),
  requires: [TCPDUMP, PYTHON],
  skip: (s) => (s.containers ? null : 'no containers (host baseline)'),
  run: (ctx) => captureMarker(ctx),
  judge(e: Evidence<WireData>): Verdict {
    const c = classify(parseTcpdumpHex(e.data.capture), e.data);
    if (!c) return { mark: 'not-run', text: 'not run: the datagram was not seen on the underlay' };
    const inner =
      c.innerSourceIsContainer === undefined
        ? 'inner header not visible'
        : c.innerSourceIsContainer
          ? 'inner source = container'
          : 'inner source ≠ container';
    const over = c.overhead ? `, +${c.overhead} B` : '';
    return {
      mark: 'value',
      key: c.kind,
      text: `${c.text}${over}; ${inner}`,
      detail: `outer ${c.outerSrc} → ${c.outerDst}, ${e.data.innerLen} B inner packet from ${e.data.src} to ${e.data.dst}`,
    };
  },
};
