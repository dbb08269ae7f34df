import type { HostStatus } from "../host/status.ts";
import type { DiskCopies } from "./ports.ts";

/**
 * Non-shared disk (paper 4.1): after a failure the failed host's own copy is out of sync ("the
 * disks can get out of sync after a failure") and nobody will ever run on it again, so the
 * cluster service deletes it. Only the member of the live primary collects, and only for a
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

export interface DiskCandidate {
  hostId: string;
  status: HostStatus | null;
  dead: boolean;
}

/** Every host but the live primary that has or had a copy: this member's, the other members', the departed. */
export function diskCandidates(
  own: readonly DiskCandidate[],
  others: readonly { hostId: string | null; status: HostStatus | null }[],
  departed: readonly { hostId: string; status: HostStatus | null }[],
): DiskCandidate[] {
  return [...own, ...others.flatMap((m) => (m.hostId ? [{ hostId: m.hostId, status: m.status, dead: false }] : [])), ...departed.map((d) => ({ ...d, dead: false }))];
}

/** Deletes each garbage copy once and says so in the feed. */
export class DiskGarbage {
  private readonly collected = new Set<string>();

  constructor(
    private readonly disks: DiskCopies,
    private readonly note: (text: string) => void,
  ) {}

  /** The live primary runs in `liveEpoch`: deletes the copies of `candidates` that are garbage; returns their hosts. */
  collect(diskId: string, candidates: readonly DiskCandidate[], liveEpoch: number): string[] {
    const garbage = candidates.filter((c) => isGarbage(c, liveEpoch));
    for (const { hostId } of garbage) {
      const key = `${diskId}/${hostId}`;
      if (this.collected.has(key)) continue;
      this.collected.add(key);
      // The deletion completes when the copy's owner closes it (a dead worker's, at once).
      this.disks.delete(diskId, hostId).then(
        () => this.note(`non-shared disk: ${hostId}'s own copy deleted (out of sync since the failure, never used again)`),
        (e: unknown) => this.note(`non-shared disk: deleting ${hostId}'s copy failed: ${String(e)}`),
      );
    }
    return garbage.map((c) => c.hostId);
  }

  /** A fresh VM: copies left by earlier VMs of this origin (closed pages, crashed tabs) go. */
  clearAll(): Promise<void> {
    return this.disks.clearAll().catch(() => undefined);
  }
}
