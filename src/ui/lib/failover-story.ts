import type { ProtocolEvent } from "../../host/events.ts";
import type { HostRole } from "../../host/status.ts";
import type { Silence } from "./tab-view.ts";

/**
 * The failover as the surviving tabs tell it, step by step (paper §2.3 and §3.1): the host that
 * went, the failure detector, the test-and-set on the lock record, the backup going live, and
 * redundancy restored by FT VMotion into a standby. Built from the membership change this tab saw
 * and the hosts' structured events (never from the feed's text).
 */

/** A tab that left the cluster, as this tab noticed it (page clock). */
export interface Departure {
  tab: string;
  hostId: string | null;
  role: HostRole | null;
  at: number;
}

export type StepId = "gone" | "detect" | "test-and-set" | "live" | "clone" | "backup";

export interface StoryStep {
  id: StepId;
  done: boolean;
  text: string;
}

export interface FailoverStory {
  steps: StoryStep[];
  /** From the departure to the survivor's go-live (ms), once it went live. */
  failoverMs: number | null;
  /** The host that went live, and the new backup once one replays. */
  newPrimary: string | null;
  newBackup: string | null;
  /** The guest pause the FT VMotion snapshot cost (ms), once taken. */
  clonePauseMs: number | null;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Events of the failover may reach this tab before the departure does: the survivor's go-live
 * comes over the transport from another tab, with no order against the departed tab's goodbye
 * (or its Web Lock's release). Events this much older than the departure still belong to it.
 */
export const LOOKBACK_MS = 2000;

/**
 * `events`: the feed (page clock, oldest first); `silence`: the longest silence a paired host has
 * timed lately; `timeoutMs`: the failure detector's timeout in tab mode.
 */
export function failoverStory(dep: Departure, events: readonly ProtocolEvent[], silence: Silence | null, timeoutMs: number): FailoverStory {
  const after = events.filter((e) => e.at >= dep.at - LOOKBACK_MS && e.hostId !== dep.hostId);
  const first = <K extends ProtocolEvent["kind"]>(kind: K, ok: (e: Extract<ProtocolEvent, { kind: K }>) => boolean = () => true) =>
    after.find((e): e is Extract<ProtocolEvent, { kind: K }> => e.kind === kind && ok(e as Extract<ProtocolEvent, { kind: K }>));
  const wasPrimary = dep.role === "primary";
  const who = dep.hostId ? `${dep.hostId} (the ${dep.role ?? "host"})` : "no host";
  const steps: StoryStep[] = [{ id: "gone", done: true, text: `Tab ${dep.tab} went: ${who} is gone with it.` }];

  const draining = first("state", (e) => e.role === "backup" && e.state === "draining");
  const tas = first("state", (e) => e.state === "going-live");
  const live = first("go-live");
  if (dep.hostId && (dep.role === "primary" || dep.role === "backup")) {
    const detected = draining ?? tas ?? live;
    steps.push({
      id: "detect",
      done: !!detected,
      text: detected
        ? `${detected.hostId}'s failure detector: its peer is dead (the closing tab's goodbye, or ${secs(timeoutMs)} of silence).`
        : silence
          ? `Failure detector: ${silence.hostId} has heard nothing for ${secs(silence.silentMs)} of ${secs(timeoutMs)}.`
          : "Failure detector: waiting for the survivor to notice…",
    });
    steps.push({
      id: "test-and-set",
      done: !!live,
      text: live
        ? `${live.hostId} won the test-and-set on the lock record: epoch ${live.epoch} is its.`
        : tas
          ? `${tas.hostId} tries the test-and-set on the lock record…`
          : "Test-and-set on the lock record: not yet.",
    });
  }
  // From the failure noticed (the departure here, or the survivor's detector if that was first) to go-live.
  const noticed = Math.min(dep.at, (draining ?? tas ?? live)?.at ?? dep.at);
  const failoverMs = live ? Math.max(0, Math.round(live.at - noticed)) : null;
  if (live)
    steps.push({
      id: "live",
      done: true,
      text: wasPrimary
        ? `${live.hostId} went live in ${failoverMs} ms: it replayed the log to its end and is the primary now, running alone; the client did not notice.`
        : `${live.hostId} goes on alone: the outside world saw nothing (failover ${failoverMs} ms).`,
    });
  // Redundancy restored: a standby host gets the snapshot and replays from there.
  const snap = first("clone-snapshot");
  const progress = [...after].reverse().find((e): e is Extract<ProtocolEvent, { kind: "clone-progress" }> => e.kind === "clone-progress");
  const backup = first("state", (e) => e.role === "backup" && e.state === "replaying" && e.hostId !== dep.hostId);
  if (live || snap || progress) {
    steps.push({
      id: "clone",
      done: !!snap,
      text: snap
        ? `FT VMotion: ${snap.hostId} snapshotted its VM (${(snap.bytes / 1048576).toFixed(1)} MiB; the guest paused ${snap.pauseMs.toFixed(0)} ms).`
        : progress
          ? `FT VMotion: snapshot ${progress.percent}% received…`
          : "FT VMotion: the new primary will clone itself into a standby tab (open one if there is none).",
    });
  }
  if (backup) steps.push({ id: "backup", done: true, text: `${backup.hostId} is the new backup, replaying: fault tolerant again.` });
  return {
    steps,
    failoverMs,
    newPrimary: live?.hostId ?? null,
    newBackup: backup?.hostId ?? null,
    clonePauseMs: snap ? Math.round(snap.pauseMs) : null,
  };
}
