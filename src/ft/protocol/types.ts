/**
 * Basic vocabulary shared by every protocol file.
 *
 * A position names a point in the guest's instruction stream. Frames are the unit
 * the engine executes between host interventions, and the 64-bit instruction count
 * disambiguates inside a frame (determinism.md). Positions are totally ordered, which
 * is all the protocol needs: the Output Rule, lag control and the clone marker only ever
 * compare them.
 */
export interface Position {
  readonly frame: number;
  readonly icount: bigint;
}

export const ORIGIN: Position = Object.freeze({ frame: 0, icount: 0n });

export function comparePos(a: Position, b: Position): number {
  if (a.frame !== b.frame) return a.frame < b.frame ? -1 : 1;
  return a.icount < b.icount ? -1 : a.icount > b.icount ? 1 : 0;
}

export const posLe = (a: Position, b: Position): boolean => comparePos(a, b) <= 0;
export const posLt = (a: Position, b: Position): boolean => comparePos(a, b) < 0;

export function maxPos(a: Position, b: Position): Position {
  return comparePos(a, b) >= 0 ? a : b;
}

export function formatPos(p: Position | null | undefined): string {
  return p ? `${p.frame}:${p.icount}` : '-';
}

/**
 * A host incarnation id. A restarted host must use a fresh id (e.g. "A#2"): the lock
 * record's owner field is how a retried test-and-set recognises its own earlier win, so
 * an old incarnation must never be mistaken for the current one.
 */
export type HostId = string;

/** Epochs are the lock record's generation counter; every go-live increments it. */
export type Epoch = number;

/** Milliseconds of host (real or simulated) time, injected by the caller. */
export type Millis = number;
