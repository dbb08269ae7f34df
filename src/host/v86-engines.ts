import { LockstepEngine } from "../engine/engine.ts";
import type { GuestImages } from "../engine/machine.ts";
import { bootImageFor } from "../engine/boot-image.ts";
import { decodeRecording, encodeRecording, SessionRecorder, type BootImageSource, type GuestIdentity } from "../engine/recording.ts";
import type { SessionInfo } from "../engine/session.ts";
import { decodeSnapshot } from "../engine/snapshot.ts";
import type { EngineFactory, EngineHooks, HostEngine } from "./engine-port.ts";

export interface V86EngineDeps {
  hostId: string;
  wasm: WebAssembly.Module;
  images: GuestImages;
  /** Both sides of a pair booted together share it; a standby (null) takes the one its clone carries. */
  session: SessionInfo | null;
  /** The guest images' identity, written into session recordings. */
  guest: GuestIdentity;
  /**
   * The boot image (src/engine/boot-image.ts), its snapshot already carrying `session`: a pair
   * started together restores it instead of booting. Absent: they boot.
   */
  bootImage?: { snapshot: Uint8Array; console: Uint8Array; sha256: string } | null;
  /**
   * The boot image as shipped (its build's session), named by the sha256 of its file: a recording
   * that starts there travels without it (FT VMotion) and is filled in from this one. A standby has it too.
   */
  bootImageFile?: { snapshot: Uint8Array; sha256: string } | null;
}

/** The real engines: LockstepEngine (v86) and the session recorder of src/engine. */
export function v86Engines(deps: V86EngineDeps): EngineFactory {
  const image = deps.bootImage ?? null;
  const file = deps.bootImageFile ?? null;
  const bootImageSource: BootImageSource = (sha256, session) => (file && sha256 === file.sha256 ? bootImageFor(file.snapshot, session) : null);
  const create = async (mode: "record" | "replay", session: SessionInfo, hooks: EngineHooks, snapshot?: Uint8Array, bootImage = false): Promise<HostEngine> =>
    LockstepEngine.create({
      mode,
      wasm: deps.wasm,
      images: deps.images,
      session,
      snapshot,
      bootImage,
      external: { issued: hooks.issued, completed: hooks.completed },
      onCheckpoint: hooks.checkpoint,
    });
  return {
    boot(mode, hooks) {
      if (!deps.session) throw new Error("boot: a standby has no session until its clone arrives");
      return image ? create(mode, deps.session, hooks, image.snapshot, true) : create(mode, deps.session, hooks);
    },
    ...(image ? { bootConsole: image.console } : {}),
    restore(snapshot, hooks) {
      return create("replay", decodeSnapshot(snapshot).meta.session, hooks, snapshot);
    },
    recorder(cloned, prefix) {
      // A pair started from the boot image records from its snapshot, as a clone's backup does from the clone's.
      const snapshot = cloned ?? image?.snapshot ?? null;
      const meta = snapshot ? decodeSnapshot(snapshot).meta : null;
      const session = meta?.session ?? deps.session;
      if (!session) return null;
      const rec =
        continued(prefix, meta, deps.hostId, bootImageSource) ??
        new SessionRecorder(
          {
            hostId: deps.hostId,
            guest: deps.guest,
            session,
            origin: cloned ? "clone" : meta ? "image" : "boot",
            start: meta ? { frame: meta.frame, icount: meta.icount } : { frame: 0, icount: 0 },
            ...(!cloned && image ? { consolePrefix: new TextDecoder("latin1").decode(image.console), bootImage: image.sha256 } : {}),
          },
          snapshot,
        );
      return {
        frames: (frames) => rec.frames(frames),
        checkpoint: (c) => rec.checkpoint(c),
        readData: (id, data) => rec.readData(id, data),
        encode: (now, opts) => encodeRecording(rec.recording(now), opts),
      };
    },
  };
}

/**
 * The new backup's recording continuing the primary's (FT VMotion): only a whole recording of
 * the same session that ends exactly where the snapshot starts; anything else (none sent, a
 * truncated one, a gap) and the recording starts at the snapshot as before.
 */
export function continued(
  prefix: Uint8Array | null | undefined,
  meta: { frame: number; icount: number; session: SessionInfo } | null,
  hostId: string,
  bootImage?: BootImageSource,
): SessionRecorder | null {
  if (!prefix || !meta) return null;
  try {
    const rec = decodeRecording(prefix, bootImage);
    const { end, session, truncated } = rec.meta;
    if (truncated !== null || end.frame !== meta.frame || end.icount !== meta.icount || JSON.stringify(session) !== JSON.stringify(meta.session)) return null;
    return SessionRecorder.continuing(rec, hostId);
  } catch {
    return null;
  }
}
