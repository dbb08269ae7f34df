import type { Member } from "./membership.ts";

/** Where the next backup goes: a standby host of another member, or a new host of this one. */
export type BackupPlace = { kind: "member"; member: string; hostId: string } | { kind: "local" };

/**
 * The choice of the next backup (paper §3.1: the cluster service picks the server): the
 * oldest member whose host waits as a standby, else, where this member may add a host (the
 * one page; a tab with a standby worker), a new host here; else none. A `spent` host has just
 * received a snapshot that did not make it the backup: whatever its last beat says, it is passed
 * over (for a while: see Redundancy).
 */
export function chooseNextBackup(members: readonly Member[], spawnLocal: boolean, spent: ReadonlySet<string> = new Set()): BackupPlace | null {
  const standby = members.find((m) => !m.me && m.hostId && !spent.has(m.hostId) && m.status?.role === "standby" && m.status.state === "waiting");
  if (standby) return { kind: "member", member: standby.tab, hostId: standby.hostId! };
  return spawnLocal ? { kind: "local" } : null;
}
