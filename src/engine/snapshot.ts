// Snapshot container for clone (FT VMotion): v86's save_state bytes plus the engine's position,
// clock and device fix-ups. Pure TS.
//
//   "LSNP" | version u8 | blob meta (UTF-8 JSON) | blob cpu region | blob v86 state

import { ByteReader, ByteWriter, LogFormatError } from "../ft/log/bytes.ts";
import type { MachineExtra } from "./machine-state.ts";
import type { SessionInfo } from "./session.ts";

export const SNAPSHOT_VERSION = 1;
const MAGIC = [0x4c, 0x53, 0x4e, 0x50]; // LSNP

/** Engine-side state at the boundary where the snapshot was taken. */
export interface SnapshotMeta {
  session: SessionInfo;
  cloneId: number;
  /** Next frame to run and the instruction count at its start. */
  frame: number;
  icount: number;
  /** Virtual clock anchor (µs, instruction count). */
  anchorUs: number;
  anchorIcount: number;
  /** How the previous frame ended (drives the next frame's predicted start time). */
  pred: { halted: boolean; t: number; endMs: number };
  consoleOffset: number;
  /** Packets the NIC had transmitted (absent in snapshots made before the network: 0). */
  netSent?: number;
  nextIoId: number;
  ck: { count: number; lastFrame: number; lastMs: number };
  ps2: MachineExtra["ps2"];
  uartInput: number[] | null;
}

export interface Snapshot {
  meta: SnapshotMeta;
  extra: MachineExtra;
  state: ArrayBuffer;
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new ByteWriter(s.state.byteLength + 4096);
  for (const b of MAGIC) w.u8(b);
  w.u8(SNAPSHOT_VERSION);
  const meta = { ...s.meta, ps2: s.extra.ps2, uartInput: s.extra.uartInput };
  w.blob(new TextEncoder().encode(JSON.stringify(meta)));
  w.blob(s.extra.cpu);
  w.blob(new Uint8Array(s.state));
  return w.finish();
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const r = new ByteReader(bytes);
  for (const b of MAGIC) {
    if (r.u8("snapshot magic") !== b) throw new LogFormatError("corrupt", "not a Lockstep snapshot (bad magic)");
  }
  const version = r.u8("snapshot version");
  if (version !== SNAPSHOT_VERSION) {
    throw new LogFormatError("version", `snapshot has version ${version}, this build reads version ${SNAPSHOT_VERSION}`);
  }
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(r.blob("snapshot meta"))) as SnapshotMeta;
  } catch (e) {
    if (e instanceof LogFormatError) throw e;
    throw new LogFormatError("corrupt", `snapshot meta is not valid JSON: ${(e as Error).message}`);
  }
  const cpu = r.blob("snapshot cpu region");
  const state = r.blob("snapshot v86 state");
  if (r.remaining !== 0) throw new LogFormatError("corrupt", `snapshot has ${r.remaining} trailing bytes`);
  return {
    meta,
    extra: { cpu, ps2: meta.ps2 ?? null, uartInput: meta.uartInput ?? null },
    state: state.buffer.slice(state.byteOffset, state.byteOffset + state.byteLength) as ArrayBuffer,
  };
}
