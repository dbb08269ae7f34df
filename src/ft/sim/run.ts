/** Entry points for the CLI and the tests. */
import type { UnsafeFlags } from '../protocol/config';
import { makeScenario } from './scenario';
import { World, type RunStats } from './world';

export interface RunResult {
  seed: number;
  violations: string[];
  stats: RunStats;
  trace: string[] | null;
  mode: string;
}

export function runSeed(seed: number, opts: { unsafe?: UnsafeFlags; trace?: boolean } = {}): RunResult {
  const sc = makeScenario(seed);
  const w = new World(sc, opts.unsafe ?? {}, opts.trace ?? false);
  try {
    w.run();
  } catch (e) {
    w.violation(`exception: ${(e as Error).stack ?? e}`);
  }
  return { seed, violations: w.violations, stats: w.stats, trace: w.traceLines, mode: `${sc.diskMode}/${sc.readMode}` };
}

export interface BatchResult {
  seeds: number;
  failing: RunResult[];
  runsPerSec: number;
  elapsedMs: number;
  totals: { failovers: number; clones: number; lost: number; pauses: number; slowdowns: number; halts: number; stalls: number };
}

export function runSeeds(from: number, count: number, opts: { unsafe?: UnsafeFlags; stopAtFirst?: boolean } = {}): BatchResult {
  const t0 = performance.now();
  const failing: RunResult[] = [];
  const totals = { failovers: 0, clones: 0, lost: 0, pauses: 0, slowdowns: 0, halts: 0, stalls: 0 };
  let n = 0;
  for (let s = from; s < from + count; s++) {
    const r = runSeed(s, { unsafe: opts.unsafe ?? {} });
    n++;
    totals.failovers += r.stats.failovers;
    totals.clones += r.stats.clones;
    totals.lost += r.stats.lost ? 1 : 0;
    totals.pauses += r.stats.pauses;
    totals.slowdowns += r.stats.slowdowns;
    totals.halts += r.stats.halts;
    totals.stalls += r.stats.stalls;
    if (r.violations.length > 0) {
      failing.push(r);
      if (opts.stopAtFirst) break;
    }
  }
  const elapsedMs = performance.now() - t0;
  return { seeds: n, failing, runsPerSec: (n * 1000) / elapsedMs, elapsedMs, totals };
}
