// The statistics every script reports: nearest-rank percentiles over its samples. Always an
// observed sample, never an average of two, so a median of whole milliseconds prints as whole
// milliseconds (`failover-ms: N`) and the median is exactly the 50th percentile.

/** The sample at rank ⌊p/100 · n⌋ of the sorted samples (the largest for p = 100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new Error(`percentile ${p} of no samples`);
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is outside 0..100`);
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The middle sample; of an even count, the upper of the two middle ones. */
export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}
