import type { FtAction, StorageResult } from "../ft/protocol/index.ts";
import { StaleEpochError } from "../storage/index.ts";
import type { HostDisk, HostStorage } from "./ports.ts";

/**
 * Performs the protocol's storage actions on IndexedDB and turns each outcome into the
 * protocol's storageResult event. Errors become results, never exceptions: the protocol
 * decides what a stale epoch or unreachable storage means (halt, or wait and retry).
 */
export class StorageOps {
  /** ioId → byte range, because the protocol names a disk location by one number. */
  private readonly ranges = new Map<number, { offset: number; length: number }>();

  constructor(
    private readonly storage: HostStorage,
    private readonly disk: HostDisk,
    private readonly deliver: (r: StorageResult) => void,
  ) {}

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
      this.deliver({ op: "write", ioId, epoch, ok: true });
    } catch (e) {
      this.deliver({ op: "write", ioId, epoch, ok: false, reason: e instanceof StaleEpochError ? "stale-epoch" : "unavailable" });
    }
  }

  private async read(ioId: number, offset: number): Promise<void> {
    const range = this.ranges.get(ioId);
    if (!range) throw new Error(`read ${ioId}: unknown byte range`);
    if (this.gate) await this.gate;
    try {
      const data = await this.disk.read(offset, range.length);
      this.deliver({ op: "read", ioId, ok: true, data });
    } catch {
      this.deliver({ op: "read", ioId, ok: false, reason: "unavailable" });
    }
  }

  private async testAndSet(reqId: number, expectEpoch: number, owner: string): Promise<void> {
    try {
      const result = await this.storage.lock.testAndSet(expectEpoch, owner);
      this.deliver({ op: "test-and-set", reqId, result });
    } catch {
      this.deliver({ op: "test-and-set", reqId, result: { ok: false, reason: "unavailable" } });
    }
  }
}
