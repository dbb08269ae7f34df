/** Entry points for the CLI (scripts/sim.ts) and the tests. */
import type { UnsafeFlags } from "../ft/protocol/config.ts";
import { makeScenario } from "./scenario.ts";
import { World, type RunStats } from "./world.ts";

export interface RunResult {
  seed: number;
  violations: string[];
  stats: RunStats;
  trace: string[] | null;
  mode: string;
}

/** The world of the seed running now: a promise host code left rejected is its violation. */
let current: World | null = null;
let listening = false;

function onUnhandled(e: unknown): void {
  if (current) current.violation(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`);
  else throw e;
}

export async function runSeed(seed: number, opts: { unsafe?: UnsafeFlags; trace?: boolean } = {}): Promise<RunResult> {
  if (!listening) {
    process.on("unhandledRejection", onUnhandled);
    listening = true;
  }
  const sc = makeScenario(seed);
  const w = new World(sc, opts.unsafe ?? {}, opts.trace ?? false);
  current = w;
  try {
    await w.run();
  } catch (e) {
    w.violation(`exception: ${(e as Error).stack ?? e}`);
  }
  // Rejections of this run are reported after a turn of the event loop.
  await new Promise((r) => setImmediate(r));
  current = null;
  return { seed, violations: w.violations, stats: w.stats, trace: w.traceLines, mode: `${sc.diskMode}/${sc.readMode}` };
}

export interface BatchResult {
  seeds: number;
  failing: RunResult[];
  runsPerSec: number;
  elapsedMs: number;
  totals: Record<(typeof TOTALS)[number], number> & { lost: number };
}

/** The stats a batch sums (each run's count of a mechanism at work). */
const TOTALS = ["failovers", "clones", "halts", "pauses", "slowdowns", "stalls", "tabs", "hints", "membersLeft", "cloneRetries", "packetsOut", "packetsRuleChecked", "packetReplies", "powerOffs", "powerOffsFenced", "powerOffsOvertaken"] as const;

export async function runSeeds(from: number, count: number, opts: { unsafe?: UnsafeFlags; stopAtFirst?: boolean } = {}): Promise<BatchResult> {
  const t0 = performance.now();
  const failing: RunResult[] = [];
  const totals = Object.fromEntries([...TOTALS, "lost"].map((k) => [k, 0])) as BatchResult["totals"];
  let n = 0;
  for (let s = from; s < from + count; s++) {
    const r = await runSeed(s, { unsafe: opts.unsafe ?? {} });
    n++;
    for (const k of TOTALS) totals[k] += r.stats[k];
    totals.lost += r.stats.lost ? 1 : 0;
    if (r.violations.length > 0) {
      failing.push(r);
      if (opts.stopAtFirst) break;
    }
  }
  const elapsedMs = performance.now() - t0;
  return { seeds: n, failing, runsPerSec: (n * 1000) / elapsedMs, elapsedMs, totals };
}
