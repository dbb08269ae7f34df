import type { Measurement } from "../lib/cluster.svelte.ts";

/**
 * The tours' side-by-side measurements, as drawn: bars on a linear scale (a 203× difference
 * must look like one, not like 2×), and one ratio per comparison, computed here only, so the
 * metrics panel and the tour's verdict quote the same figure.
 */
export interface CompareGroup {
  name: string;
  items: Measurement[];
  /** Bar length of a value, in % of the longest (linear). */
  width: (bitsPerSec: number) => number;
  /** Larger over smaller, for a two-bar comparison; null otherwise. */
  ratio: number | null;
}

/** The one ratio of a two-measurement comparison: larger over smaller bandwidth. */
export function comparisonRatio(a: number, b: number): number | null {
  const lo = Math.min(a, b);
  return lo > 0 ? Math.max(a, b) / lo : null;
}

export function compareGroups(ms: readonly Measurement[]): CompareGroup[] {
  const by = new Map<string, Measurement[]>();
  for (const m of ms) by.set(m.group, [...(by.get(m.group) ?? []), m]);
  return [...by].map(([name, items]) => {
    const max = Math.max(...items.map((m) => m.bitsPerSec), 0);
    return {
      name,
      items,
      width: (v: number) => (max > 0 ? (100 * Math.max(0, v)) / max : 0),
      ratio: items.length === 2 ? comparisonRatio(items[0]!.bitsPerSec, items[1]!.bitsPerSec) : null,
    };
  });
}
