import { diskImageHash, type DiskBlock } from "../storage/index.ts";
import { decodeClonePayload, encodeClonePayload } from "./clone-payload.ts";
import type { HostEngine } from "./engine-port.ts";
import { pos, type HostContext } from "./host-context.ts";
import type { LogBatcher } from "./log-batcher.ts";
import type { ReplayFeed } from "./replay-feed.ts";
import type { StorageOps } from "./storage-ops.ts";

/** How the host swaps in an engine: boot or restore, with its hooks and recorder (host.ts). */
export interface EngineSwap {
  restoreEngine(snapshot: Uint8Array): Promise<HostEngine>;
  /** The new backup's recording: from the snapshot, continuing `prefix` (the primary's) when it came along. */
  newRecording(snapshot: Uint8Array, prefix: Uint8Array | null): void;
  /**
   * This host's recording as of now (the primary's, at the snapshot point), or null if it keeps
   * none; a start at the boot image left out (the new backup has the image).
   */
  recording(): Uint8Array | null;
  /** The restored engine took the log that came meanwhile: the calls that waited for it now. */
  engineReady(engine: HostEngine): void;
}

/**
 * FT VMotion, the host's part (paper 3.1): on the primary, a snapshot at a frame boundary with no
 * disk request in flight (plus, with a non-shared disk, the disk copy as of that point); on the
 * new backup, the restore of both. The protocol moves the snapshot and resends it until acked.
 */
export class CloneTransfer {
  private request: number | null = null;
  private includeDisk = false;
  private machineReady = false;
  private prewarming = false;

  constructor(
    private readonly ctx: HostContext,
    private readonly batcher: LogBatcher,
    private readonly replay: ReplayFeed,
    private readonly storageOps: StorageOps,
    private readonly swap: EngineSwap,
  ) {}

  /** The agent's `snapshotForClone`: taken by the frame loop once the guest can be paused cleanly. */
  requested(cloneId: number, includeDisk: boolean): void {
    this.request = cloneId;
    this.includeDisk = includeDisk;
    this.machineReady = false;
    this.prewarming = false;
    if (this.ctx.engine) this.prewarm(this.ctx.engine);
    this.ctx.event({ kind: "clone-quiescing" });
  }

  /** Builds the fresh instance before pausing the guest: it is the slow part of a clone. */
  private prewarm(engine: HostEngine): void {
    this.prewarming = true;
    this.ctx.doing("clone-prewarm");
    void engine.prewarm().then(() => {
      this.ctx.doing(null);
      this.machineReady = true;
    });
  }

  /** After a frame: time to snapshot (the fresh machine exists, no disk request in flight)? */
  due(engine: HostEngine): boolean {
    if (this.request === null) return false;
    // Asked while this host's own clone was still being restored: the engine exists now.
    if (!this.prewarming) this.prewarm(engine);
    return this.machineReady && engine.pendingIo().length === 0;
  }

  async take(engine: HostEngine): Promise<void> {
    const cloneId = this.request!;
    this.request = null;
    const res = await engine.clone();
    // Frames the clone's quiesce ran belong before the snapshot in the log.
    this.batcher.takeFrames(engine);
    this.batcher.flush(engine);
    // The guest stays paused while the disk copy is read (no frame may run before snapshotTaken).
    const s = this.ctx.scheduler;
    const t0 = s.now();
    const disk = this.includeDisk ? await this.exportDisk() : null;
    const pauseMs = res.pauseMs + (s.now() - t0);
    this.ctx.event({ kind: "clone-snapshot", frame: res.frame, bytes: res.snapshot.length, pauseMs, withDisk: disk !== null });
    // The recording up to the snapshot point travels with it: the new backup's continues it.
    const snapshot = encodeClonePayload({ engine: res.snapshot, disk, recording: this.swap.recording() });
    this.ctx.feed({ type: "snapshotTaken", cloneId, position: pos(res.frame, res.icount), guestTime: engine.nowMs(), snapshot });
  }

  /** The agent's `restoreSnapshot` (a standby becomes the new backup). */
  restore(bytes: Uint8Array): void {
    this.replay.restoring = true;
    const restoring = this.restoreFrom(bytes).catch((e: unknown) =>
      e instanceof DiskCopyFailed ? this.ctx.failStop(e.message) : this.ctx.fail(e),
    );
    // Own-disk writes of the adopted pending I/O (the next actions) must land after the import.
    if (this.ctx.ports.ft.diskMode === "non-shared") this.storageOps.holdUntil(restoring);
  }

  private async restoreFrom(bytes: Uint8Array): Promise<void> {
    const s = this.ctx.scheduler;
    const start = s.now();
    this.ctx.event({ kind: "clone-restoring", bytes: bytes.length });
    this.ctx.doing("clone-restore");
    const { engine: snapshot, disk, recording } = decodeClonePayload(bytes, this.ctx.ports.ft.diskMode === "non-shared");
    // Before any await: log batches arriving during the restore already belong to this recording.
    this.swap.newRecording(snapshot, recording ?? null);
    if (disk) await this.importDisk(disk.blocks, disk.hash);
    const engine = await this.swap.restoreEngine(snapshot);
    this.replay.restored(engine);
    this.swap.engineReady(engine);
    // Mostly one synchronous import (v86's restore_state): reported whole, an upper bound.
    this.ctx.stalledSince(start, "clone-restore");
    this.ctx.doing(null);
    this.ctx.event({ kind: "clone-restored" });
    this.ctx.wake();
  }

  /**
   * Non-shared disk: our copy as of the snapshot point. No frame runs until snapshotTaken is fed,
   * and writes still in flight are pending I/O in the clone, which the new backup re-applies.
   */
  private async exportDisk(): Promise<{ blocks: DiskBlock[]; hash: number }> {
    const s = this.ctx.scheduler;
    const t0 = s.now();
    const blocks = await this.ctx.ports.disk.exportBlocks();
    const hash = diskImageHash(blocks);
    const bytes = blocks.reduce((n, b) => n + b.data.length, 0);
    this.ctx.event({ kind: "clone-disk-exported", blocks: blocks.length, bytes, hash, ms: s.now() - t0 });
    return { blocks, hash };
  }

  /** The new backup's copy becomes the primary's as of the snapshot; proven by comparing hashes. */
  private async importDisk(blocks: DiskBlock[], hash: number): Promise<void> {
    const s = this.ctx.scheduler;
    const t0 = s.now();
    const disk = this.ctx.ports.disk;
    let mine: number;
    try {
      await disk.importBlocks(blocks, this.ctx.agent?.status().epoch ?? 0);
      mine = diskImageHash(await disk.exportBlocks());
    } catch (e) {
      throw new DiskCopyFailed(e);
    }
    if (mine !== hash) throw new Error(`divergence: disk copy hash ${hex(mine)} after FT VMotion, the primary's is ${hex(hash)}`);
    this.ctx.event({ kind: "clone-disk-imported", blocks: blocks.length, hash: mine, ms: s.now() - t0 });
  }
}

const hex = (h: number) => h.toString(16).padStart(8, "0");

/**
 * The own disk copy failed while the new backup synchronised it: not a divergence of the replay
 * but a failure of this host. One way: the cluster service deleted the copy because the live
 * primary's epoch moved past this host's, so it can never go live (src/cluster/disk-gc.ts), and
 * a deleted copy's database closes under its owner.
 */
class DiskCopyFailed extends Error {
  constructor(cause: unknown) {
    super(`own disk copy could not be synchronised: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
