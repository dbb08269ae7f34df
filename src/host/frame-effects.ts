import type { FtEvent } from "../ft/protocol/index.ts";
import type { HostEngine, DiskRequest } from "./engine-port.ts";
import { pos } from "./host-context.ts";

/**
 * What the VM did in the frame just run, in both modes, as protocol events: its console output,
 * the packets it transmitted,
 * the disk requests it issued (a write is an output, a read an input) and the completions it saw.
 * The engine reports disk activity through hooks during the frame; it is turned into events
 * after it, in one order on both sides: outputs, requests, completions.
 */
export class FrameEffects {
  private issued: DiskRequest[] = [];
  private done: number[] = [];

  /** The engine's disk hooks (EngineHooks.issued / completed). */
  readonly onIssued = (req: DiskRequest): void => void this.issued.push(req);
  readonly onCompleted = (id: number): void => void this.done.push(id);

  /** `noteRange`: the protocol names a disk location by one number; storage needs the byte range. */
  constructor(private readonly noteRange: (ioId: number, offset: number, length: number) => void) {}

  /**
   * Emits the frame's events. Returns true if any of them should go out at once (an output or a
   * disk request: something waits for the backup's acknowledgement).
   */
  take(engine: HostEngine, emit: (ev: FtEvent) => void): boolean {
    let urgent = false;
    const at = engine.position();
    const here = pos(at.frame, at.icount);
    for (const out of engine.takeOutput()) {
      emit({ type: "outputProduced", kind: "console", position: pos(out.frame, out.icount), bytes: out.bytes });
      urgent = true;
    }
    for (const p of engine.takePackets()) {
      emit({ type: "outputProduced", kind: "packet", position: pos(p.frame, p.icount), frame: p.bytes });
      urgent = true;
    }
    for (const req of this.issued.splice(0)) {
      this.noteRange(req.id, req.offset, req.length);
      if (req.kind === "write") {
        emit({ type: "outputProduced", kind: "disk-write", position: here, ioId: req.id, block: req.offset, data: req.data! });
      } else {
        emit({ type: "diskReadIssued", position: here, ioId: req.id, block: req.offset });
      }
      urgent = true;
    }
    for (const id of this.done.splice(0)) emit({ type: "ioCompleted", position: here, ioId: id });
    return urgent;
  }
}
