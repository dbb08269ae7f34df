/** The toy VM's FT VMotion snapshot: its state bytes and the engine's console offset and clone id. */
export interface ToySnapshot {
  vm: Uint8Array;
  consoleOffset: number;
  cloneId: number;
}

export function encodeToySnapshot(s: ToySnapshot): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify({ consoleOffset: s.consoleOffset, cloneId: s.cloneId }));
  const out = new Uint8Array(4 + head.length + s.vm.length);
  new DataView(out.buffer).setUint32(0, head.length);
  out.set(head, 4);
  out.set(s.vm, 4 + head.length);
  return out;
}

export function decodeToySnapshot(b: Uint8Array): ToySnapshot {
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
  const head = JSON.parse(new TextDecoder().decode(b.subarray(4, 4 + n))) as { consoleOffset: number; cloneId: number };
  return { ...head, vm: b.slice(4 + n) };
}
