import type { Cluster, HostView } from "../lib/cluster.svelte.ts";

/** What a scenario step can look at and do. */
export interface Ctx {
  cluster: Cluster;
  /** Scratch space shared by the steps of one run (host ids, marks). */
  vars: Record<string, unknown>;
  primary(): HostView | undefined;
  backup(): HostView | undefined;
  host(id: string): HostView | undefined;
  /** Types a line into the client and remembers where the client stream stood. */
  typeLine(cmd: string): void;
  /** Trimmed lines of client output since the last typeLine. */
  linesSince(): string[];
  /** Primary recording, backup replaying, guest shell up. */
  inLockstep(): boolean;
  eventsSince(kind: string): number;
}

export interface Step {
  caption: string;
  /** Paper mechanism this step shows (a § link beside the caption). */
  ref?: string;
  run?: (c: Ctx) => void;
  /**
   * The event the caption describes: the step is over when this holds (checked every 100 ms)
   * and its caption has been up for its reading time. No predicate: over after the reading time.
   */
  until?: (c: Ctx) => boolean;
  timeoutMs?: number;
  /** Leave the caption up at least this long (ms at pace 1), if longer than its reading time. */
  holdMs?: number;
  /**
   * Timing-critical: the world must not wait for a reader here (e.g. the primary has to fail
   * before its own failure detector fires). The caption gets its reading time only when the
   * runner can freeze the world once the step's event has happened (slow motion); without that
   * the step moves on as soon as its event has happened.
   */
  critical?: boolean;
  /** The final step: computes what the scenario showed. */
  verdict?: (c: Ctx) => Verdict;
  /** Live numbers shown under the caption while the step is up (refreshed every poll). */
  note?: (c: Ctx) => string;
}

export interface Verdict {
  /** What the run demonstrated, e.g. "consistent", "inconsistent", "failover". */
  kind: string;
  ok: boolean;
  text: string;
}

export interface Scenario {
  id: string;
  title: string;
  summary: string;
  steps: Step[];
}

export type RunStatus = "idle" | "running" | "paused" | "done" | "failed";

/**
 * Minimum reading time of a caption at pace 1 ("normal"): 1 s to find the caption plus 250 ms
 * per word (240 words a minute, a careful reading pace for projected text with a teacher
 * talking over it). A 20-word caption stays 6 s, a 54-word one 14.5 s. The pace multiplies it.
 */
export const READING_BASE_MS = 1000;
export const READING_PER_WORD_MS = 250;

export const wordCount = (text: string): number => text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;

export const readingMs = (text: string): number => READING_BASE_MS + READING_PER_WORD_MS * wordCount(text);

/** How long a step's caption stays up at least, at `pace` (the step's own hold if longer). */
export const holdFor = (step: Step, pace: number): number => Math.max(step.holdMs ?? 0, readingMs(step.caption)) * pace;

/** The first sentence of a caption, shortened: a step's name in the step list. */
export function stepTitle(step: Step, max = 70): string {
  const first = step.caption.split(/(?<=[.:!?…])\s/)[0] ?? step.caption;
  return first.length <= max ? first : `${first.slice(0, max - 1).trimEnd()}…`;
}

/** One caption as it was shown during a run, with the live numbers it ended with. */
export interface TranscriptEntry {
  step: number;
  caption: string;
  note: string;
  /** ms since the run started. */
  at: number;
}

/** The transcript of a run as plain text (what "Copy transcript" puts on the clipboard). */
export function transcriptText(title: string, entries: TranscriptEntry[], verdict: Verdict | null, error: string | null): string {
  const lines = [`Lockstep tour: ${title}`, ""];
  for (const e of entries) {
    lines.push(`${e.step + 1}. [${(e.at / 1000).toFixed(1)} s] ${e.caption}`);
    if (e.note) lines.push(`   ${e.note}`);
  }
  if (verdict) lines.push("", `Result (${verdict.ok ? "as expected" : "unexpected"}): ${verdict.text}`);
  if (error) lines.push("", `Stopped: ${error}`);
  return lines.join("\n");
}
