// Disk requests: what the guest's IDE asks of the disk, from the moment it asks until the
// guest sees the completion. Both modes number requests in guest order and update the disk
// cache at the same points; a recorder gets completions from its own disk or from the host
// (external I/O), a replayer from the log. Completions reach the guest only at a frame boundary.
//
// Vocabulary: a `DiskRequest` is the engine's view of one guest I/O (byte range, and the data
// of a write). The protocol's `PendingIo` (src/ft/protocol/messages.ts) is the FT layer's record
// of the same I/O (its log position for the Output Rule, kept for re-issue after failover); the
// host maps one onto the other. They differ on purpose: the engine needs the length (the device
// callback waits for exactly that many bytes) and knows no log position; the protocol needs the
// position and keeps no length.

import type { BlockDevice } from "./block-device.ts";
import { DiskCache } from "./disk-cache.ts";
import type { EngineStats } from "./stats.ts";

/** A disk request the guest issued and has not yet seen complete. */
export interface DiskRequest {
  /** The guest's request number in this session (both sides count the same way). */
  id: number;
  kind: "read" | "write";
  /** Byte offset on the disk. */
  offset: number;
  length: number;
  /** Write payload. */
  data?: Uint8Array;
}

/** FT hosts perform disk I/O themselves (the Output Rule holds writes, storage is fenced). */
export interface ExternalIo {
  issued(req: DiskRequest): void;
  completed(id: number): void;
}

/** What the engine knows about a request in flight. */
export interface InFlightRequest extends DiskRequest {
  readDone?: (data: Uint8Array) => void;
  writeDone?: () => void;
  /** Reads: what the disk cache says the read must return (both sides compute it at issue). */
  expected?: Uint8Array;
  /** Reads: the cache write generation at issue (read data is cached only if unchanged since). */
  writeGen?: number;
}

/** A completion waiting for the next frame boundary (record mode). */
export interface Completion {
  id: number;
  data?: Uint8Array;
}

export interface DiskRequestsDeps {
  stats: EngineStats;
  isRecording(): boolean;
  /** Wakes a waitForWork (a completion is an input). */
  wake(): void;
  /** Runs a device callback into v86 under the engine's clock. */
  callGuest(fn: () => void): void;
}

export class DiskRequests {
  private nextId = 0;
  private readonly inFlight = new Map<number, InFlightRequest>();
  private readonly cache: DiskCache;
  private readonly backupReads = new Map<number, Uint8Array>();
  private ready: Completion[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** A failure of the owned disk: the next frame throws it. */
  fatal: Error | null = null;

  constructor(
    cacheBytes: number,
    private disk: BlockDevice | undefined,
    readonly external: ExternalIo | undefined,
    private readonly deps: DiskRequestsDeps,
  ) {
    this.cache = new DiskCache(cacheBytes);
  }

  /** Machine hook: the guest reads [start, start+length). */
  read(start: number, length: number, done: (data: Uint8Array) => void): void {
    this.onRequest({ id: 0, kind: "read", offset: start, length, readDone: done });
  }

  /** Machine hook: the guest writes `data` at `start`. */
  write(start: number, data: Uint8Array, done: () => void): void {
    this.onRequest({ id: 0, kind: "write", offset: start, length: data.length, data, writeDone: done });
  }

  private onRequest(req: InFlightRequest): void {
    req.id = this.nextId++;
    this.inFlight.set(req.id, req);
    if (req.kind === "write") {
      this.cache.write(req.offset, req.data!);
    } else {
      req.expected = this.cache.lookup(req.offset, req.length);
      req.writeGen = this.cache.generation;
    }
    if (this.external) {
      const { id, kind, offset, length, data } = req;
      this.external.issued({ id, kind, offset, length, data });
      return;
    }
    if (this.deps.isRecording()) this.issue(req);
  }

  /** Record mode with an owned disk: sends a request once every earlier one has completed. */
  private issue(req: InFlightRequest): void {
    const disk = this.disk!;
    const id = req.id;
    this.chain = this.chain.then(async () => {
      try {
        if (req.kind === "read") {
          const data = await disk.read(req.offset, req.length);
          if (data.length !== req.length) throw new Error(`disk read returned ${data.length} bytes, wanted ${req.length}`);
          this.ready.push({ id, data });
        } else {
          await disk.write(req.offset, req.data!);
          this.ready.push({ id });
        }
      } catch (err) {
        this.fatal = err instanceof Error ? err : new Error(String(err));
      }
      this.deps.wake();
    });
  }

  /** External I/O (record mode): the completion of request `id`, applied at the next frame boundary. */
  queueCompletion(id: number, data?: Uint8Array): void {
    if (!this.inFlight.has(id)) throw new Error(`complete: unknown disk request ${id}`);
    this.ready.push(data ? { id, data } : { id });
    this.deps.wake();
  }

  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Completions that arrived since the last frame boundary, in arrival order. */
  takeReady(): Completion[] {
    const r = this.ready;
    this.ready = [];
    return r;
  }

  /** Replay, backup-reads mode: data the host read from the shared disk for request `id`. */
  provideRead(id: number, data: Uint8Array): void {
    this.backupReads.set(id, data);
  }

  takeBackupRead(id: number): Uint8Array | undefined {
    const data = this.backupReads.get(id);
    this.backupReads.delete(id);
    return data;
  }

  find(id: number): InFlightRequest | undefined {
    return this.inFlight.get(id);
  }

  /** At a frame boundary: the guest sees request `id` complete (read data cached if still valid). */
  deliver(id: number, data: Uint8Array | undefined): void {
    const req = this.inFlight.get(id);
    if (!req) throw new Error(`completion for unknown disk request ${id}`);
    this.inFlight.delete(id);
    this.deps.stats.ioCompleted++;
    if (req.kind === "read" && data && req.writeGen === this.cache.generation) this.cache.store(req.offset, data);
    this.external?.completed(id);
    this.deps.callGuest(() => {
      if (req.kind === "read") req.readDone!(data!);
      else req.writeDone!();
    });
  }

  get count(): number {
    return this.inFlight.size;
  }

  /** Requests the guest issued and has not seen complete, in guest order. */
  pending(): DiskRequest[] {
    return [...this.inFlight.values()].map(({ id, kind, offset, length, data }) => ({ id, kind, offset, length, data }));
  }

  /** Go-live with an owned disk: re-issues, in order, every request still pending. */
  reissueOn(disk: BlockDevice): DiskRequest[] {
    this.disk = disk;
    const pending = [...this.inFlight.values()].sort((a, b) => a.id - b.id);
    for (const req of pending) this.issue(req);
    return pending.map(({ id, kind, offset, length, data }) => ({ id, kind, offset, length, data }));
  }

  /** Clone: the backup made from the snapshot starts without a cache, so both sides drop theirs. */
  clearCache(): void {
    this.cache.clear();
  }

  /** Next request number (travels in snapshots). */
  get nextIoId(): number {
    return this.nextId;
  }

  set nextIoId(n: number) {
    this.nextId = n;
  }
}
