import type { HostStatus } from "../host/status.ts";
import type { MemberBeat } from "./messages.ts";

/** A member of the cluster (a tab) as this member knows it: from its beats, or itself. */
export interface Member {
  tab: string;
  joinedAt: number;
  hostId: string | null;
  status: HostStatus | null;
  lastSeen: number;
  me: boolean;
  /** The computer the member's page runs on, as its user named it (between computers on etcd). */
  computer?: string;
}

/** A host whose member left: kept by its last status until its own disk copy is collected. */
export interface Departed {
  hostId: string;
  status: HostStatus | null;
}

/**
 * A member silent this long has left (closed, crashed or hung). Membership only: the FT failure
 * detector is the hosts' own heartbeat on the logging channel. Background tabs beat at ~1 Hz.
 */
export const MEMBER_TIMEOUT_MS = 2500;

/** Who is in the cluster, oldest first, from the members' beats and goodbyes. */
export class Membership {
  /** Sorted by joinedAt: the first is the oldest member. */
  readonly members: Member[];
  departed: Departed[] = [];

  constructor(self: string, joinedAt: number, now: number) {
    this.members = [{ tab: self, joinedAt, hostId: null, status: null, lastSeen: now, me: true }];
  }

  get me(): Member {
    return this.members.find((m) => m.me)!;
  }

  find(tab: string): Member | undefined {
    return this.members.find((m) => m.tab === tab);
  }

  others(): Member[] {
    return this.members.filter((m) => !m.me);
  }

  /** Returns the member the beat came from. */
  onBeat(b: MemberBeat, now: number): Member {
    const m = this.find(b.tab);
    if (m) {
      m.hostId = b.hostId;
      m.status = b.status;
      m.lastSeen = now;
      if (b.computer !== undefined) m.computer = b.computer;
      return m;
    }
    const joined: Member = { tab: b.tab, joinedAt: b.joinedAt, hostId: b.hostId, status: b.status, lastSeen: now, me: false, ...(b.computer !== undefined ? { computer: b.computer } : {}) };
    this.members.push(joined);
    this.members.sort((x, y) => x.joinedAt - y.joinedAt);
    return joined;
  }

  /** Members silent for longer than the timeout. */
  silent(now: number): Member[] {
    return this.others().filter((m) => now - m.lastSeen > MEMBER_TIMEOUT_MS);
  }

  /** Removes another member; its host is remembered as departed. */
  remove(tab: string): Member | null {
    const i = this.members.findIndex((m) => m.tab === tab && !m.me);
    if (i < 0) return null;
    const [m] = this.members.splice(i, 1);
    if (m!.hostId) this.departed.push({ hostId: m!.hostId, status: m!.status });
    return m!;
  }
}
