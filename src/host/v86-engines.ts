import { LockstepEngine } from "../engine/engine.ts";
import type { GuestImages } from "../engine/machine.ts";
import { encodeRecording, SessionRecorder, type GuestIdentity } from "../engine/recording.ts";
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
}

/** The real engines: LockstepEngine (v86) and the session recorder of src/engine. */
export function v86Engines(deps: V86EngineDeps): EngineFactory {
  const create = async (mode: "record" | "replay", session: SessionInfo, hooks: EngineHooks, snapshot?: Uint8Array): Promise<HostEngine> =>
    LockstepEngine.create({
      mode,
      wasm: deps.wasm,
      images: deps.images,
      session,
      snapshot,
      external: { issued: hooks.issued, completed: hooks.completed },
      onCheckpoint: hooks.checkpoint,
    });
  return {
    boot(mode, hooks) {
      if (!deps.session) throw new Error("boot: a standby has no session until its clone arrives");
      return create(mode, deps.session, hooks);
    },
    restore(snapshot, hooks) {
      return create("replay", decodeSnapshot(snapshot).meta.session, hooks, snapshot);
    },
    recorder(snapshot) {
      const meta = snapshot ? decodeSnapshot(snapshot).meta : null;
      const session = meta?.session ?? deps.session;
      if (!session) return null;
      const rec = new SessionRecorder(
        {
          hostId: deps.hostId,
          guest: deps.guest,
          session,
          origin: meta ? "clone" : "boot",
          start: meta ? { frame: meta.frame, icount: meta.icount } : { frame: 0, icount: 0 },
        },
        snapshot,
      );
      return {
        frames: (frames) => rec.frames(frames),
        checkpoint: (c) => rec.checkpoint(c),
        readData: (id, data) => rec.readData(id, data),
        encode: (now) => encodeRecording(rec.recording(now)),
      };
    },
  };
}
