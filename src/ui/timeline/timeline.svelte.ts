import * as Comlink from "comlink";
import type { ClusterView } from "../lib/cluster-view.ts";
import type { ProtocolEvent } from "../../host/status.ts";
import type { ReplaySummary, ReplayView, ReplayWorkerApi } from "../../engine/replay/types.ts";
import { decodeRecording } from "../../engine/recording.ts";
import { decodeBatch } from "../../ft/log/codec.ts";
import { niceSpan, recordingMarks, type TrackMark } from "./marks.ts";
import { inputFrames, nearest } from "./entries.ts";
import type { FrameLog } from "../../ft/log/entries.ts";

/** Something that happened in the live run, placed at the live primary's frame when it was noted. */
export interface LiveMark {
  frame: number;
  kind: "failover" | "kill" | "clone" | "halt" | "divergence" | "vm";
  text: string;
}

export const PACES: (number | "max")[] = [0.25, 0.5, 1, "max"];

/**
 * What the timeline needs of a cluster: the hosts and the feed (the live track) and the live
 * primary's recording. The one page's `Cluster` has it from its own worker; the tab mode's
 * `TabCluster` asks the live primary's tab over the cluster transport.
 */
export type TimelineSource = Pick<ClusterView, "hosts" | "livePrimary" | "onEvent"> & {
  recording(): Promise<Uint8Array>;
};

/** Which protocol events become marks on the live track. */
function markKind(e: ProtocolEvent): LiveMark["kind"] | null {
  if (e.kind === "go-live") return "failover";
  if (e.kind === "kill" || e.kind === "halt" || e.kind === "divergence") return e.kind;
  if (e.kind === "vm-paused" || e.kind === "vm-resumed" || e.kind === "vm-pace") return "vm";
  if (e.kind === "clone-snapshot") return "clone";
  return null;
}

/**
 * The timeline's two clocks (Runway): the live run (how far the live primary got) and the
 * cursor (where you are looking) in a recording replayed by a worker of its own. Recordings
 * come from the live primary (export, or "replay the live run") or from a file.
 */
export class Timeline {
  liveMarks = $state.raw<LiveMark[]>([]);
  summary = $state.raw<ReplaySummary | null>(null);
  /** The loaded recording's marks: a mark per typed line, terminal reply and clone point (marks.ts). */
  marks = $state.raw<TrackMark[]>([]);
  /**
   * The track's length in frames while a recording is loaded, fixed when it loaded: scrubbing
   * never rescales the track (the live run may pass its end; its bar then stops at the edge).
   */
  pinnedSpan = $state<number | null>(null);
  view = $state.raw<ReplayView | null>(null);
  /** The loaded recording's log, frame by frame (the entry inspector reads it), and its frames with inputs. */
  frames = $state.raw<FrameLog[]>([]);
  inputs = $state.raw<number[]>([]);

  /** The log of frame `frame` of the loaded recording, or null. */
  logAt(frame: number): FrameLog | null {
    const f = this.frames[frame - (this.frames[0]?.frame ?? 0)];
    return f?.frame === frame ? f : null;
  }

  /** Moves the cursor to the previous (−1) or next (1) frame whose log carries an input. */
  stepInput(dir: 1 | -1): Promise<void> {
    const f = nearest(this.inputs, this.cursor, dir);
    return f === null ? Promise.resolve() : this.seekTo(f);
  }

  /** Recorded checkpoints the replay has reached, and the first that differs from its replay. */
  get checkpoints(): { reached: number; total: number; bad: ReplaySummary["recordedCheckpoints"][number] | undefined } | null {
    const s = this.summary;
    const v = this.view;
    if (!s || !v) return null;
    const replayed = new Map(v.replayedCheckpoints.map((c) => [c.frame, c]));
    const reached = s.recordedCheckpoints.filter((c) => c.frame < v.furthest);
    const bad = reached.find((c) => JSON.stringify(replayed.get(c.frame)) !== JSON.stringify(c));
    return { reached: reached.length, total: s.recordedCheckpoints.length, bad };
  }
  /** Where you are looking (frame boundary); follows the slider at once, the view follows the replay. */
  cursor = $state(0);
  source = $state("");
  busy = $state<string | null>(null);
  progress = $state(0);
  error = $state<string | null>(null);

  private worker: Worker | null = null;
  private api: Comlink.Remote<ReplayWorkerApi> | null = null;
  private pending: { frame: number; exact: boolean } | null = null;
  private seeking: Promise<void> | null = null;
  private readonly off: () => void;

  constructor(
    private readonly cluster: TimelineSource,
    private readonly imagesUrl: string,
  ) {
    this.off = cluster.onEvent((e) => {
      const kind = markKind(e);
      if (!kind) return;
      const frame = (cluster.hosts.find((h) => h.id === e.hostId)?.status ?? cluster.livePrimary()?.status)?.frame ?? 0;
      this.liveMarks = [...this.liveMarks.slice(-199), { frame, kind, text: `${e.hostId}: ${e.text}` }];
    });
  }

  private replayApi(): Comlink.Remote<ReplayWorkerApi> {
    if (!this.api) {
      this.worker = new Worker(new URL("../../workers/replay.worker.ts", import.meta.url), { type: "module", name: "timeline replay" });
      this.api = Comlink.wrap<ReplayWorkerApi>(this.worker);
    }
    return this.api;
  }

  /** Downloads the live primary's recording as a file. */
  async exportRecording(): Promise<void> {
    this.error = null;
    try {
      const bytes = await this.cluster.recording();
      const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/octet-stream" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `lockstep-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.lsrec`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      this.error = `export failed: ${message(e)}`;
    }
  }

  async importFile(file: File): Promise<void> {
    await this.load(new Uint8Array(await file.arrayBuffer()), file.name);
  }

  /** Replays what the live primary has run so far, without a file round trip. */
  async inspectLive(): Promise<void> {
    this.error = null;
    try {
      const p = this.cluster.livePrimary();
      const bytes = await this.cluster.recording();
      await this.load(bytes, `live run of ${p?.id ?? "the primary"}`);
    } catch (e) {
      this.error = message(e);
    }
  }

  /** Checks and loads a recording, then replays it to its end once (verifying every checkpoint). */
  async load(bytes: Uint8Array, name: string): Promise<void> {
    this.error = null;
    this.busy = `checking ${name}`;
    try {
      // Read the marks before the bytes move to the worker; a file that does not decode here is
      // refused by the worker's identical check below, with its reason.
      let marks: TrackMark[] = [];
      let frames: FrameLog[] = [];
      try {
        frames = decodeRecording(bytes).batches.flatMap((b) => decodeBatch(b));
        marks = recordingMarks(frames);
      } catch {
        /* reported by the worker */
      }
      const summary = await this.replayApi().load(this.imagesUrl, Comlink.transfer(bytes, [bytes.buffer]), Comlink.proxy((f: number) => (this.progress = f)));
      this.summary = summary;
      this.marks = marks;
      this.frames = frames;
      this.inputs = inputFrames(frames);
      this.pinnedSpan = niceSpan(1.25 * Math.max(summary.meta.end.frame, this.cluster.livePrimary()?.status?.frame ?? 0));
      this.view = null;
      this.source = name;
      this.busy = "replaying to the end";
      await this.seekTo(summary.meta.end.frame);
    } catch (e) {
      // The worker replaces its recording only after the whole file checked out: the one shown stays.
      this.error = `${name} rejected: ${message(e)}`;
    } finally {
      this.busy = null;
    }
  }

  /**
   * Moves the cursor; seeks are coalesced (the newest target wins) so a dragged slider keeps up.
   * Going back to a frame the replay passed is recalled at once (position, guest time, console);
   * `exact` replays there again from the nearest restart point, for the full state hash.
   */
  seekTo(frame: number, exact = false): Promise<void> {
    const s = this.summary;
    if (!s) return Promise.resolve();
    this.cursor = Math.max(s.meta.start.frame, Math.min(s.meta.end.frame, Math.round(frame)));
    this.pending = { frame: this.cursor, exact };
    this.seeking ??= this.runSeeks();
    return this.seeking;
  }

  private async runSeeks(): Promise<void> {
    try {
      while (this.pending !== null) {
        const target = this.pending;
        this.pending = null;
        try {
          const v = await this.replayApi().seek(target.frame, target.exact);
          if (this.pending === null) this.view = v;
        } catch (e) {
          this.error = `replay failed: ${message(e)}`;
        }
      }
    } finally {
      // In the same turn as the last check of `pending`: a seek arriving later starts a new run.
      this.seeking = null;
    }
  }

  dispose(): void {
    this.off();
    this.worker?.terminate();
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
