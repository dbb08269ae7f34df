import type { HostStatus } from "../host/status.ts";
import type { LocalHost } from "./local-hosts.ts";

/** A host as another member's last beat announced it (the member's own host, if any). */
export interface AnnouncedHost {
  hostId: string | null;
  status: HostStatus | null;
}

/** A host that runs the VM: a primary or backup neither halted nor stopped nor powering it off. */
export const running = (s: HostStatus): boolean => s.role !== "standby" && s.state !== "halted" && s.state !== "stopped" && s.state !== "powering-off";

/**
 * Paper §2: FT survives one failure at a time. A primary that fails while it runs alone (its
 * backup failed, or no backup was cloned yet) takes the VM with it, and a standby would wait
 * for an FT VMotion that can never come. The VM is lost when no host of any member may still
 * run it: none is a primary or backup that is neither halted nor stopped, and none is still
 * starting in a role other than standby (a host whose first status has not arrived may be a
 * booting primary: wait for it rather than guess).
 */
export function vmLost(own: readonly LocalHost[], others: readonly AnnouncedHost[]): boolean {
  const ownMayRun = own.some((h) => !h.dead && (h.status ? running(h.status) : h.startedAs !== "standby"));
  const othersMayRun = others.some((m) => m.hostId !== null && (m.status === null || running(m.status)));
  return !ownMayRun && !othersMayRun;
}
