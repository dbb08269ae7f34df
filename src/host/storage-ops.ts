import type { FtAction, StorageResult } from "../ft/protocol/index.ts";
import { StaleEpochError, storageRefusal, type StorageRefusal } from "../storage/index.ts";
import type { HostDisk, HostStorage } from "./ports.ts";

/**
 * Performs the protocol's storage actions on IndexedDB and turns each outcome into the
 * protocol's storageResult event. Errors become results, never exceptions: the protocol
 * decides what a stale epoch or unreachable storage means (halt, or wait and retry).
 *
 * A browser that refuses the storage (quota exceeded, IndexedDB closed or denied) is, for the
 * protocol, unreachable storage: it waits and retries, which is right (freeing space resumes
 * it). But the people watching must be told, so `health` hears each change: the refusal when
 * one starts or changes, null when an operation succeeds again.
 */
export class StorageOps {
  /** ioId → byte range, because the protocol names a disk location by one number. */
  private readonly ranges = new Map<number, { offset: number; length: number }>();
  private refused: StorageRefusal | null = null;
  /** What kind of operation the browser refused: a read that succeeds says nothing about writes (a full quota refuses only writes). */
  private refusedOn: "read" | "write" = "read";

  constructor(
    private readonly storage: HostStorage,
    private readonly disk: HostDisk,
    private readonly deliver: (r: StorageResult) => void,
    private readonly health: (refusal: StorageRefusal | null) => void = () => undefined,
  ) {}

  private outcome(op: "read" | "write", e: unknown): void {
    const r = e === null ? null : storageRefusal(e);
    // A simulated outage or fencing is not the browser refusing: it neither starts nor ends one.
    if (e !== null && r === null) return;
    if (r === null && (this.refused === null || (op === "read" && this.refusedOn === "write"))) return;
    if (r && this.refused && r.cause === this.refused.cause && r.error === this.refused.error) {
      if (op === "write") this.refusedOn = "write";
      return;
    }
    this.refused = r;
    this.refusedOn = op;
    this.health(r);
  }

  /** Disk operations wait for this (a new backup's disk copy being synchronised). */
  private gate: Promise<unknown> | null = null;

  holdUntil(p: Promise<unknown>): void {
    const gate = p.then(
      () => undefined,
      () => undefined,
    );
    this.gate = gate;
    void gate.then(() => {
      if (this.gate === gate) this.gate = null;
    });
  }

  noteRange(ioId: number, offset: number, length: number): void {
    this.ranges.set(ioId, { offset, length });
  }

  perform(a: FtAction): void {
    switch (a.type) {
      case "writeBlock":
        void this.write(a.ioId, a.block, a.data, a.epoch);
        break;
      case "readBlock":
        void this.read(a.ioId, a.block);
        break;
      case "reissueDiskIo":
        if (a.io.kind === "write") void this.write(a.io.ioId, a.io.block, a.io.data!, a.epoch);
        else void this.read(a.io.ioId, a.io.block);
        break;
      case "testAndSet":
        void this.testAndSet(a.reqId, a.expectEpoch, a.owner);
        break;
    }
  }

  private async write(ioId: number, offset: number, data: Uint8Array, epoch: number): Promise<void> {
    if (this.gate) await this.gate;
    try {
      await this.disk.write(offset, data, epoch);
      this.outcome("write", null);
      this.deliver({ op: "write", ioId, epoch, ok: true });
    } catch (e) {
      this.outcome("write", e);
      this.deliver({ op: "write", ioId, epoch, ok: false, reason: e instanceof StaleEpochError ? "stale-epoch" : "unavailable" });
    }
  }

  private async read(ioId: number, offset: number): Promise<void> {
    const range = this.ranges.get(ioId);
    if (!range) throw new Error(`read ${ioId}: unknown byte range`);
    if (this.gate) await this.gate;
    try {
      const data = await this.disk.read(offset, range.length);
      this.outcome("read", null);
      this.deliver({ op: "read", ioId, ok: true, data });
    } catch (e) {
      this.outcome("read", e);
      this.deliver({ op: "read", ioId, ok: false, reason: "unavailable" });
    }
  }

  private async testAndSet(reqId: number, expectEpoch: number, owner: string): Promise<void> {
    try {
      const result = await this.storage.lock.testAndSet(expectEpoch, owner);
      // A conflict wrote nothing: it shows reads work, not writes.
      if (result.ok || result.reason !== "unavailable") this.outcome(result.ok ? "write" : "read", null);
      this.deliver({ op: "test-and-set", reqId, result });
    } catch (e) {
      this.outcome("write", e);
      this.deliver({ op: "test-and-set", reqId, result: { ok: false, reason: "unavailable" } });
    }
  }
}
