// TCP segments (RFC 793): parse and build, with the pseudo-header checksum, and the only option
// this client uses (MSS). Sequence numbers are unsigned 32-bit; compare them with seqLt & co.

import { foldChecksum, IP_TCP, onesSum, pseudoHeaderSum, type Ip4 } from "./packets.ts";

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export interface Segment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** MSS option, on SYN segments only. */
  mss?: number;
  payload: Uint8Array;
}

/** a - b in sequence space (signed, for values less than 2^31 apart). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
export const seqLt = (a: number, b: number): boolean => seqDiff(a, b) < 0;
export const seqLe = (a: number, b: number): boolean => seqDiff(a, b) <= 0;
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;

/** Sequence space a segment occupies: its payload, plus one for SYN and one for FIN. */
export function segLength(s: Segment): number {
  return s.payload.length + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
}

export function parseSegment(src: Ip4, dst: Ip4, p: Uint8Array): Segment | null {
  if (p.length < 20) return null;
  const off = (p[12] >> 4) * 4;
  if (off < 20 || off > p.length) return null;
  if (foldChecksum(onesSum(p, 0, p.length, pseudoHeaderSum(src, dst, IP_TCP, p.length))) !== 0) return null;
  const u32 = (i: number) => ((p[i] << 24) | (p[i + 1] << 16) | (p[i + 2] << 8) | p[i + 3]) >>> 0;
  const seg: Segment = {
    srcPort: (p[0] << 8) | p[1],
    dstPort: (p[2] << 8) | p[3],
    seq: u32(4),
    ack: u32(8),
    flags: p[13] & 0x3f,
    window: (p[14] << 8) | p[15],
    payload: p.subarray(off),
  };
  for (let i = 20; i < off; ) {
    const kind = p[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const len = p[i + 1];
    if (len < 2 || i + len > off) return null;
    if (kind === 2 && len === 4) seg.mss = (p[i + 2] << 8) | p[i + 3];
    i += len;
  }
  return seg;
}

export function buildSegment(src: Ip4, dst: Ip4, s: Segment): Uint8Array {
  const opt = s.mss !== undefined ? 4 : 0;
  const p = new Uint8Array(20 + opt + s.payload.length);
  const put32 = (i: number, v: number) => {
    p[i] = v >>> 24;
    p[i + 1] = (v >>> 16) & 0xff;
    p[i + 2] = (v >>> 8) & 0xff;
    p[i + 3] = v & 0xff;
  };
  p[0] = s.srcPort >> 8;
  p[1] = s.srcPort & 0xff;
  p[2] = s.dstPort >> 8;
  p[3] = s.dstPort & 0xff;
  put32(4, s.seq);
  put32(8, s.ack);
  p[12] = ((20 + opt) / 4) << 4;
  p[13] = s.flags;
  p[14] = (s.window >> 8) & 0xff;
  p[15] = s.window & 0xff;
  if (s.mss !== undefined) p.set([2, 4, s.mss >> 8, s.mss & 0xff], 20);
  p.set(s.payload, 20 + opt);
  const c = foldChecksum(onesSum(p, 0, p.length, pseudoHeaderSum(src, dst, IP_TCP, p.length)));
  p[16] = c >> 8;
  p[17] = c & 0xff;
  return p;
}
