import type { HostView } from "../../cluster/local-hosts.ts";
import type { FailoverStory } from "../lib/failover-story.ts";
import type { HostPlace } from "../lib/cluster-view.ts";

/**
 * The guided kill-tab tour (issue 16): a teacher runs it alone. Each step says what to do or what
 * to watch, and is over when the cluster (as every tab sees it) shows that it happened. Pure: the
 * steps read a snapshot of the cluster; TabTour.svelte shows them and the tabs share the step.
 */

/** What a step looks at: the whole cluster as this tab sees it. */
export interface TourView {
  hosts: readonly HostView[];
  placeOf(hostId: string): HostPlace | null;
  story: FailoverStory | null;
  /** The client's console stream as text. */
  clientText: string;
}

export type TourAction = "open-tab" | "type" | null;

export interface TabTourStep {
  id: string;
  /** What to do or watch; may name the hosts and tabs of this run. */
  caption: (v: TourView) => string;
  /** Paper mechanism the step shows. */
  ref: string;
  /** A button that does what the caption asks (open a tab, type the command). */
  action: TourAction;
  /** What the "type" button types (a teacher runs the whole demo from the tour's buttons). */
  command?: string;
  /** The step is over once this holds. */
  done: (v: TourView) => boolean;
}

const live = (v: TourView, role: string, state?: string) =>
  v.hosts.find((h) => !h.dead && h.status?.role === role && h.status.state !== "halted" && h.status.state !== "stopped" && (!state || h.status.state === state));
const tabOf = (v: TourView, h: HostView | undefined) => {
  const p = h ? v.placeOf(h.id) : null;
  return p ? (p.me ? `this tab (${p.tab})` : `tab ${p.tab}`) : "its tab";
};

/** The command the tour types, and the answer it later asks the survivors for. */
export const TOUR_COMMAND = "kv set tour 42";
export const TOUR_CHECK = "kv get tour";

export const KILL_TAB_TOUR: readonly TabTourStep[] = [
  {
    id: "primary",
    ref: "replay",
    action: null,
    caption: () => "Each browser tab is one physical server of the paper. The first tab boots the VM as the primary; with no backup yet it runs alone, and nothing is fault tolerant.",
    done: (v) => !!live(v, "primary"),
  },
  {
    id: "backup",
    ref: "vmotion",
    action: "open-tab",
    caption: () =>
      "Open a second tab (the button does it). It joins the cluster as a standby host, and the primary clones itself into it by FT VMotion: a snapshot, a short pause of the guest, then the log streams over the logging channel and the new host replays it as the backup.",
    done: (v) => !!live(v, "backup", "replaying") && !!live(v, "primary", "recording"),
  },
  {
    id: "standby",
    ref: "vmotion",
    action: "open-tab",
    caption: () => "Open a third tab. With a backup in place it waits as a standby host: the cluster service will clone into it the next time redundancy is lost.",
    done: (v) => !!live(v, "standby"),
  },
  {
    id: "type",
    ref: "output-rule",
    action: "type",
    command: TOUR_COMMAND,
    caption: () =>
      `Type \`${TOUR_COMMAND}\` in the client (or press the button). The client is the outside world: it works from every tab and talks to whichever host is live. The primary logs the input, and holds the answer until the backup acknowledges the log (the Output Rule).`,
    done: (v) => v.clientText.includes(`${TOUR_COMMAND}\r\nOK`),
  },
  {
    id: "close",
    ref: "failure",
    action: null,
    caption: (v) => {
      const p = live(v, "primary");
      const where = tabOf(v, p);
      return `Now close the primary's tab: ${where}, host ${p?.id ?? "?"} (Ctrl+W in it${p && v.placeOf(p.id)?.me ? "; the tour goes on in the other tabs" : ""}). Watch the Figure in a surviving tab.`;
    },
    done: (v) => !!v.story?.newPrimary && v.story.steps[0]?.id === "gone",
  },
  {
    id: "live",
    ref: "go-live",
    action: null,
    caption: (v) => {
      const s = v.story;
      return s?.newPrimary
        ? `What happened: the closing tab said goodbye, so ${s.newPrimary}'s failure detector gave up on its peer at once (a crashed tab is noticed after the heartbeat timeout instead). ${s.newPrimary} replayed the log it had, won the test-and-set on the lock record (a new epoch; the old primary could never write again) and went live ${s.failoverMs} ms after the close. The client saw no gap and no duplicate.`
        : "The backup goes live…";
    },
    done: (v) => !!v.story?.newBackup,
  },
  {
    id: "restored",
    ref: "vmotion",
    action: "type",
    command: TOUR_CHECK,
    caption: (v) => {
      const s = v.story;
      return `Without a click, the cluster service cloned the new primary into the standby tab: ${s?.newBackup ?? "?"} is the new backup${s?.clonePauseMs !== null && s?.clonePauseMs !== undefined ? ` (the guest paused ${s.clonePauseMs} ms for the snapshot)` : ""}. Fault tolerant again; ask the client \`${TOUR_CHECK}\` (the button types it): still 42.`;
    },
    done: () => false,
  },
];
