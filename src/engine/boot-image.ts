// The boot image: the guest booted once, at build time, to its shell prompt, and saved as a
// snapshot (scripts/build-boot-image.ts). A pair started from it restores that snapshot on both
// sides instead of booting (seconds of kernel start-up in a cold JIT), at the image's position,
// virtual time and console offset. Pure TS: no DOM or Node APIs.

import { decodeSnapshot, encodeSnapshot } from "./snapshot.ts";
import type { SessionInfo } from "./session.ts";

/**
 * Session fields that shape the machine's state or the position the image was saved at: the image
 * restores only into a session that agrees on them. The others (the virtual wall clock's epoch,
 * where a backup gets read data, the disk cache size) only matter from the first frame run on.
 */
const SHAPING = ["ipms", "checkpointEvery", "checkpointMs", "ramSliceBytes", "jit", "haltClock"] as const;

export class BootImageError extends Error {
  override name = "BootImageError";
}

/**
 * The image's snapshot carrying `session` instead of the build's one, so an engine of that session
 * restores it and clones and recordings made from it carry the session of this run. Throws
 * BootImageError when the image was built for a differently shaped guest.
 */
export function bootImageFor(image: Uint8Array, session: SessionInfo): Uint8Array {
  const snap = decodeSnapshot(image);
  for (const k of SHAPING) {
    if (snap.meta.session[k] !== session[k]) {
      throw new BootImageError(`the boot image was built with ${k}=${String(snap.meta.session[k])}, this session has ${String(session[k])}: rebuild it (npm run images:boot)`);
    }
  }
  return encodeSnapshot({ ...snap, meta: { ...snap.meta, session } });
}
