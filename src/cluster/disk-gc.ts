import { deleteOwnDisk, listOwnDisks, ownDiskDbName } from "../storage/index.ts";
import type { HostStatus } from "../host/status.ts";

/**
 * Non-shared disk (paper 4.1): after a failure the failed host's own copy is out of sync ("the
 * disks can get out of sync after a failure") and nobody will ever run on it again, so the
 * cluster service deletes it. Only the page of the live primary calls collect, and only for a
 * host that can never be live again: dead (its worker is gone), halted (terminal), or a primary
 * or backup of an older epoch than the live one (its test-and-set expects that epoch, so it can
 * only lose and halt). A backup of the live epoch or a standby that merely went quiet is never
 * collected: it may be alive and the next to go live.
 */
export function isGarbage(host: { status: HostStatus | null; dead: boolean }, liveEpoch: number): boolean {
  const s = host.status;
  const staleRole = s?.role === "primary" || s?.role === "backup";
  return host.dead || s?.state === "halted" || (staleRole && s.epoch < liveEpoch);
}

export class OwnDiskCollector {
  private readonly collected = new Set<string>();

  constructor(
    private readonly dbName: string,
    private readonly note: (text: string) => void,
  ) {}

  /** Deletes `hostId`'s copy of disk `diskId` (once). The deletion completes when its owner closes it. */
  collect(diskId: string, hostId: string): void {
    const name = ownDiskDbName(this.dbName, diskId, hostId);
    if (this.collected.has(name)) return;
    this.collected.add(name);
    deleteOwnDisk(name).then(
      () => this.note(`non-shared disk: ${hostId}'s own copy deleted (out of sync since the failure, never used again)`),
      (e: unknown) => this.note(`non-shared disk: deleting ${hostId}'s copy failed: ${String(e)}`),
    );
  }

  /** A fresh VM: copies left by earlier VMs of this origin (closed pages, crashed tabs) go. */
  async clearAll(): Promise<void> {
    for (const name of await listOwnDisks(this.dbName).catch(() => [])) await deleteOwnDisk(name).catch(() => undefined);
  }
}
