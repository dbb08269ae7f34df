/**
 * The toy engine's log-entry payloads. In the real system src/ft/log owns this; the
 * protocol never looks inside, it only sees bytes, which is why the simulator encodes its
 * entries to bytes too (flow control then counts realistic sizes).
 */
export type ToyEntry =
  | { k: 'input'; seq: number; bytes: Uint8Array }
  | { k: 'io'; ioId: number; data?: Uint8Array }
  | { k: 'nd'; value: number };

function putVar(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

export function encodeEntry(e: ToyEntry): Uint8Array {
  const out: number[] = [];
  if (e.k === 'input') {
    out.push(1);
    putVar(out, e.seq);
    putVar(out, e.bytes.length);
    for (const b of e.bytes) out.push(b);
  } else if (e.k === 'io') {
    out.push(2);
    putVar(out, e.ioId);
    if (e.data) {
      putVar(out, e.data.length);
      for (const b of e.data) out.push(b);
    } else {
      putVar(out, 0);
    }
  } else {
    out.push(3);
    putVar(out, e.value >>> 0);
  }
  return Uint8Array.from(out);
}

export function decodeEntry(b: Uint8Array): ToyEntry {
  let i = 1;
  const getVar = (): number => {
    let v = 0;
    let m = 1;
    for (;;) {
      const x = b[i++]!;
      v += (x & 0x7f) * m;
      if (x < 0x80) return v;
      m *= 128;
    }
  };
  switch (b[0]) {
    case 1: {
      const seq = getVar();
      const n = getVar();
      return { k: 'input', seq, bytes: b.slice(i, i + n) };
    }
    case 2: {
      const ioId = getVar();
      const n = getVar();
      return n > 0 ? { k: 'io', ioId, data: b.slice(i, i + n) } : { k: 'io', ioId };
    }
    case 3:
      return { k: 'nd', value: getVar() };
    default:
      throw new Error(`toy codec: bad entry kind ${b[0]}`);
  }
}
