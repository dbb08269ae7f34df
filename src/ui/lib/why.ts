import { isLive, type HostView } from "../../cluster/local-hosts.ts";
import type { HostStatus } from "../../host/status.ts";

/**
 * Feedback for the controls: why input typed now would wait, why the failure controls cannot act,
 * what a host is waiting for. Pure functions of what the page shows (tested in tests/unit/ui).
 */
export interface WorldView {
  hosts: readonly HostView[];
  storageAvailable: boolean;
  /** The lecture's pause. */
  frozen: boolean;
}

/** Every host failed, halted or stopped, and none is starting: nothing can run the VM again. */
export const noVmLeft = (w: WorldView): boolean => w.hosts.length > 0 && w.hosts.every((h) => h.dead || (h.status !== null && !isLive(h)));

/** What a host going live waits for. */
export const lockWait = (storageAvailable: boolean): string =>
  storageAvailable ? "test-and-set on the lock record" : "waiting for the lock record: shared storage is unreachable";

/** Why input the client types now waits, or null when a live primary takes it at once. */
export function inputWaits(w: WorldView): string | null {
  if (noVmLeft(w)) return "No VM is running (every host failed or halted): input waits for a New pair.";
  if (w.frozen) return "The world is frozen (tour paused): input waits until it runs again.";
  const goingLive = w.hosts.find((h) => !h.dead && (h.status?.state === "going-live" || h.status?.state === "draining" || h.status?.state === "promoted"));
  if (goingLive) return `${goingLive.id} is going live, ${lockWait(w.storageAvailable)}: input and output wait until it is live.`;
  const primary = w.hosts.find((h) => isLive(h) && h.status!.role === "primary");
  if (!primary) return w.hosts.some((h) => !h.dead && !h.status) ? "The VM is starting: input waits for it." : null;
  if (primary.status!.vm?.paused) return "The VM is paused (Timeline, P): input waits until it runs; step it one frame with F.";
  return null;
}

/** Why a control aimed at a role cannot act now (its button's tooltip), or null when it can. */
export function roleMissing(w: WorldView, role: "primary" | "backup"): string | null {
  if (w.hosts.some((h) => isLive(h) && h.status!.role === role)) return null;
  if (noVmLeft(w)) return "No VM left: every host failed or halted. Start a New pair.";
  if (w.hosts.some((h) => !h.dead && !h.status)) return "The VM is starting.";
  return role === "backup" ? "No backup: the primary runs alone (Restore redundancy)." : "No live primary right now (a backup may be going live).";
}

/**
 * The host card's word for flow control (paper 3.2) stopping a primary: the badge and its
 * tooltip, or null while the primary runs.
 */
export function flowPause(fc: HostStatus["flowControl"]): { badge: string; why: string } | null {
  if (!fc?.pausedBy) return null;
  const times = `stopped ${fc.pauses} time${fc.pauses === 1 ? "" : "s"} so far`;
  return fc.pausedBy === "log"
    ? { badge: "paused: log buffer full", why: `Flow control (§3.2): the backup has not acknowledged enough of the log, so the primary stops until it catches up (${times})` }
    : { badge: "paused: outputs held", why: `Flow control (§3.2): too many output bytes wait for the backup's acknowledgement (Output Rule), so the primary stops until they are released (${times})` };
}
