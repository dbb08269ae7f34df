import type { AgentState, Role } from "../ft/protocol/index.ts";
import type { StorageRefusal } from "../storage/index.ts";

/**
 * What a host tells the page happened, with its facts as fields. Code reads the fields; the
 * feed shows `describeHostEvent`. Nothing ever parses the text back.
 */
export type HostEvent =
  | { kind: "channel-error"; message: string }
  /** A clone's snapshot arriving in chunks (the data-channel path), in whole percent. */
  | { kind: "clone-progress"; percent: number }
  | { kind: "clone-quiescing" }
  /** FT VMotion on the primary: the snapshot was taken; the guest was paused `pauseMs` for it. */
  | { kind: "clone-snapshot"; frame: number; bytes: number; pauseMs: number; withDisk: boolean }
  | { kind: "clone-restoring"; bytes: number }
  | { kind: "clone-restored" }
  /** Non-shared disk (paper 4.1): the own copy shipped with the snapshot, and its arrival. */
  | { kind: "clone-disk-exported"; blocks: number; bytes: number; hash: number; ms: number }
  | { kind: "clone-disk-imported"; blocks: number; hash: number; ms: number }
  | { kind: "zombie-write"; epoch: number; accepted: boolean; ownCopy: boolean; error?: string }
  | { kind: "fenced"; epoch: number; reason: string }
  | { kind: "vm-paused"; frame: number }
  | { kind: "vm-resumed" }
  | { kind: "vm-pace"; pace: number | "max" }
  | { kind: "flow-control" }
  /** Teaching control: this host's replay gets `factor` of the CPU (a slow backup). */
  | { kind: "replay-speed"; factor: number }
  | { kind: "state"; role: Role; state: AgentState; epoch: number }
  | { kind: "remus"; epochMs: number | null }
  | { kind: "go-live"; epoch: number; from: "primary" | "backup" }
  /** Paper §3.4: a new primary re-issues a disk I/O its guest issued (at frame `issuedAt`) and still waits for. */
  | { kind: "reissue"; ioId: number; op: "read" | "write"; offset: number; bytes: number; epoch: number; issuedAt: number }
  | { kind: "halt"; reason: string }
  /** The host stopped dead on purpose (a teaching control): nothing more leaves it. */
  | { kind: "fail-stop"; reason: string }
  | { kind: "divergence"; message: string }
  /** The browser refused this host's storage operations (quota, IndexedDB closed or denied): they wait and retry. */
  | ({ kind: "storage-refused" } & StorageRefusal)
  /** A storage operation succeeded again after a refusal. */
  | { kind: "storage-recovered" };

/** Notes of the page itself (the cluster service, the teaching UI, the embed API): a sentence each. */
export type PageNoteKind =
  | "kill"
  | "cut"
  | "storage"
  | "info"
  | "restart"
  | "error"
  | "cluster"
  | "membership"
  | "freeze"
  | "world"
  | "disk-gc"
  | "embed";
export type PageNote = { kind: PageNoteKind; message: string };

/** One line of the protocol feed: who, when (page-clock ms), what, and how it reads. */
export type ProtocolEvent = (HostEvent | PageNote) & { at: number; hostId: string; text: string };

const mib = (bytes: number, digits = 1) => (bytes / 1048576).toFixed(digits);
const hex = (h: number) => h.toString(16).padStart(8, "0");

export function describeHostEvent(e: HostEvent): string {
  switch (e.kind) {
    case "channel-error":
      return `logging channel: ${e.message}`;
    case "clone-progress":
      return `receiving snapshot: ${e.percent}%`;
    case "clone-quiescing":
      return "FT VMotion: quiescing disk I/O, then snapshotting at a frame boundary";
    case "clone-snapshot":
      return `FT VMotion: snapshot ${mib(e.bytes)} MiB at frame ${e.frame}; guest paused ${e.pauseMs.toFixed(0)} ms${e.withDisk ? " (with the disk copy's export)" : ""}`;
    case "clone-restoring":
      return `FT VMotion: restoring a ${mib(e.bytes)} MiB snapshot`;
    case "clone-restored":
      return "FT VMotion: backup restored, replaying from the clone point";
    case "clone-disk-exported":
      return `FT VMotion: own disk copy (${e.blocks} blocks, ${mib(e.bytes, 2)} MiB, hash ${hex(e.hash)}) exported in ${e.ms.toFixed(0)} ms, sent with the snapshot`;
    case "clone-disk-imported":
      return `FT VMotion: own disk copy synchronised (${e.blocks} blocks in ${e.ms.toFixed(0)} ms); hash ${hex(e.hash)} equals the primary's`;
    case "zombie-write":
      if (e.accepted) return `write at epoch ${e.epoch} was ACCEPTED${e.ownCopy ? " (its own disk copy: not fenced, and garbage now)" : ""}`;
      return `write at epoch ${e.epoch} failed: ${e.error ?? "unknown error"}`;
    case "fenced":
      return `write at epoch ${e.epoch} rejected: ${e.reason}`;
    case "vm-paused":
      return `VM paused at frame ${e.frame} (the host keeps running)`;
    case "vm-resumed":
      return "VM resumed";
    case "vm-pace":
      return `VM speed ${e.pace === "max" ? "max (guest timers do not wait)" : `${e.pace}×`}`;
    case "flow-control":
      return "log buffer full: primary paused until the backup catches up";
    case "replay-speed":
      return e.factor < 1 ? `slow backup: its replay gets ${Math.round(e.factor * 100)}% of the CPU` : "backup at full speed again";
    case "state":
      return `${e.role}: ${e.state} (epoch ${e.epoch})`;
    case "remus":
      return e.epochMs !== null ? `Remus meter on: a checkpoint epoch every ${e.epochMs} ms (dirty pages counted, not sent)` : "Remus meter off";
    case "go-live":
      return `went live in epoch ${e.epoch} (${e.from === "backup" ? "backup promoted" : "primary running alone"})`;
    case "reissue":
      return `re-issued pending disk ${e.op} #${e.ioId}${e.op === "write" ? ` (${e.bytes} B at offset ${e.offset})` : ` at offset ${e.offset}`}, issued by the guest at frame ${e.issuedAt}, now at epoch ${e.epoch}: the new primary cannot know whether it completed`;
    case "halt":
      return `halted: ${e.reason}`;
    case "fail-stop":
      return `failed (fail-stop): ${e.reason}`;
    case "divergence":
      return `host stopped: ${e.message}`;
    case "storage-refused":
      return `the browser refused the storage (${e.error}): disk and lock-record operations wait and retry`;
    case "storage-recovered":
      return "storage accepted again: waiting disk and lock-record operations go through";
  }
}

/** The feed line for a host's event. */
export const hostEventLine = (hostId: string, at: number, e: HostEvent): ProtocolEvent => ({ ...e, at, hostId, text: describeHostEvent(e) });

/** The feed line for a note of the page. */
export const pageNoteLine = (hostId: string, at: number, kind: PageNoteKind, message: string): ProtocolEvent => ({ kind, message, at, hostId, text: message });
