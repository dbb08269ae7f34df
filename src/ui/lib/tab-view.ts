import type { HostView } from "../../cluster/local-hosts.ts";
import type { Member } from "../../cluster/membership.ts";
import type { HostStatus } from "../../host/status.ts";
import type { HostPlace } from "./cluster-view.ts";

/**
 * The whole cluster as one tab sees it (kill-tab mode), in plain TypeScript so that it is tested
 * without a browser: every tab's host from the members' beats (this tab's own from its worker,
 * fresher), the hosts of tabs that went (drawn failed a while, as the one-page Figure draws a
 * killed host), and where each host runs.
 */

/** How many departed hosts stay drawn (the Figure shows the latest; the feed tells the rest). */
export const GONE_KEPT = 2;

export interface TabHostsView {
  hosts: HostView[];
  places: Map<string, HostPlace>;
}

export class TabHosts {
  /** Hosts whose tab left, the latest last, with the tab they ran in and their last status. */
  private gone: { view: HostView; tab: string }[] = [];
  private last: TabHostsView = { hosts: [], places: new Map() };

  /**
   * `local`: this tab's own hosts (its main host first, then a second worker); a tab's other
   * members are known by the host id and status of their beats.
   */
  update(members: readonly Member[], local: readonly HostView[]): TabHostsView {
    const hosts: HostView[] = [];
    const places = new Map<string, HostPlace>();
    for (const m of members) {
      if (m.me) {
        for (const h of local) {
          hosts.push(this.stable(h.id, h.status, h.progress, h.dead));
          places.set(h.id, { tab: m.tab, me: true });
        }
      } else if (m.hostId) {
        hosts.push(this.stable(m.hostId, m.status, null, false));
        places.set(m.hostId, { tab: m.tab, me: false });
      }
    }
    // A host shown before and absent now: its tab closed, crashed or was dropped by membership.
    for (const h of this.last.hosts) {
      if (h.dead || places.has(h.id) || this.gone.some((g) => g.view.id === h.id)) continue;
      this.gone.push({ view: { ...h, dead: true }, tab: this.last.places.get(h.id)?.tab ?? "?" });
    }
    this.gone = this.gone.filter((g) => !places.has(g.view.id)).slice(-GONE_KEPT);
    for (const g of this.gone) {
      hosts.push(g.view);
      places.set(g.view.id, { tab: g.tab, me: false });
    }
    return (this.last = { hosts, places });
  }

  /** The same object while nothing in it changed (only what changed re-renders). */
  private stable(id: string, status: HostStatus | null, progress: HostView["progress"], dead: boolean): HostView {
    const old = this.last.hosts.find((h) => h.id === id);
    return old && old.status === status && old.progress === progress && old.dead === dead ? old : { id, status, progress, dead };
  }
}

/** What a host has received on its logging channel so far: any message is a sign of life. */
const heard = (s: HostStatus): number => {
  const r = s.flow?.received;
  return r ? r.log + r.ack + r.heartbeat + r.clone : 0;
};

export interface Silence {
  /** The host whose failure detector this is, and the peer it listens to. */
  hostId: string;
  role: "primary" | "backup";
  /** ms since its receive counters last grew (to the resolution of the status reports). */
  silentMs: number;
}

/**
 * The failure detector's countdown, seen from outside the hosts: each live host in a pair has
 * heard its peer as long as its receive counters grow; the time since they last grew is the
 * silence its own detector is timing (paper §2.3: "heartbeats ... longer than a timeout").
 */
export class SilenceWatch {
  private seen = new Map<string, { count: number; at: number }>();

  /** The longest silence of a host that has a peer now (null: no pair, or all heard lately). */
  observe(hosts: readonly HostView[], now: number): Silence | null {
    let worst: Silence | null = null;
    const paired = hosts.filter((h) => !h.dead && h.status && ((h.status.role === "backup" && h.status.state === "replaying") || (h.status.role === "primary" && h.status.state === "recording")));
    for (const h of paired) {
      const count = heard(h.status!);
      const prev = this.seen.get(h.id);
      if (!prev || count > prev.count) this.seen.set(h.id, { count, at: now });
      const silentMs = now - this.seen.get(h.id)!.at;
      if (!worst || silentMs > worst.silentMs) worst = { hostId: h.id, role: h.status!.role as "primary" | "backup", silentMs };
    }
    for (const id of [...this.seen.keys()]) if (!paired.some((h) => h.id === id)) this.seen.delete(id);
    return worst;
  }
}
