import { isLive, type HostView } from "./local-hosts.ts";

/** One point of the metrics plots, sampled from the hosts' status reports. */
export interface MetricSample {
  /** Page clock, ms. */
  t: number;
  lagMs: number | null;
  /** Log bandwidth the primary sends, bits per second. */
  logBitsPerSec: number | null;
  /** Remus meter on: what shipping dirty pages would need, bits per second (counted, not sent). */
  remusBitsPerSec: number | null;
  unackedBytes: number | null;
  heldOutputs: number | null;
  primaryFrame: number | null;
  verifiedFrame: number | null;
}

export const SAMPLE_MS = 250;
const SAMPLES_KEPT = 240;

/** The plots' point for now: the live primary's and the live backup's figures. */
export function sampleOf(hosts: readonly HostView[], t: number): MetricSample {
  const live = hosts.filter(isLive);
  const p = live.find((h) => h.status!.role === "primary")?.status ?? null;
  const b = live.find((h) => h.status!.role === "backup")?.status ?? null;
  return {
    t,
    lagMs: b ? b.lagMs : null,
    logBitsPerSec: p ? p.logBytesPerSec * 8 : null,
    remusBitsPerSec: p?.remus ? p.remus.bytesPerSec * 8 : null,
    unackedBytes: p ? p.unackedBytes : null,
    heldOutputs: p ? p.heldOutputs : null,
    primaryFrame: p ? p.frame : null,
    verifiedFrame: b ? b.verifiedFrame : null,
  };
}

/** The history the plots draw: a new array per sample (the UI replaces, never mutates, it). */
export function appendSample(samples: readonly MetricSample[], s: MetricSample): MetricSample[] {
  const next = samples.length >= SAMPLES_KEPT ? samples.slice(1) : samples.slice();
  next.push(s);
  return next;
}
