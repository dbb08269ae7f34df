// Measurements bench:ft takes inside a page: the hosts' stall meters (src/host/loop-probe.ts)
// split into phases, and keystroke → echo latency as the client sees it.
import type { Page } from "@playwright/test";
import type { LoopGaps } from "../../src/host/loop-probe.ts";
import { latePercentile } from "../../src/host/loop-probe.ts";
import type { LockstepHook } from "../../src/ui/test-hook.ts";

/** Every host's stall meter in a page (dead hosts keep their last report). */
export async function loopGaps(p: Page): Promise<Map<string, LoopGaps>> {
  const rows = await p.evaluate(() => {
    const h = window.lockstep as LockstepHook;
    if (h.mode !== "ft") return [];
    return h.cluster.hosts.filter((x) => x.status?.loop).map((x) => [x.id, x.status!.loop!] as const);
  });
  return new Map(rows as [string, LoopGaps][]);
}

/** Probe turns of one phase, over every host that reported during it. */
export interface PhaseGaps {
  turns: number;
  late: number[];
  /** What kept the thread away, per entry of `late` (LoopGaps.lateBy). */
  by: string[];
}

/** What the meters saw between two readings `a` (earlier; empty for "since each host started") and `b`. */
export function between(a: Map<string, LoopGaps>, b: Map<string, LoopGaps>): PhaseGaps {
  const out: PhaseGaps = { turns: 0, late: [], by: [] };
  for (const [id, now] of b) {
    const was = a.get(id);
    out.turns += now.turns - (was?.turns ?? 0);
    const fresh = now.late.length + now.lateDropped - (was ? was.late.length + was.lateDropped : 0);
    if (fresh <= 0) continue;
    const n = Math.min(fresh, now.late.length);
    out.late.push(...now.late.slice(-n));
    out.by.push(...now.lateBy.slice(-n));
  }
  return out;
}

/** Collects phases by name; p99 and max over all turns of a phase (lateness below the probe's tail counts as 0). */
export class StallPhases {
  private phases = new Map<string, PhaseGaps>();

  add(name: string, g: PhaseGaps): void {
    const p = this.phases.get(name) ?? { turns: 0, late: [], by: [] };
    p.turns += g.turns;
    p.late.push(...g.late);
    p.by.push(...g.by);
    this.phases.set(name, p);
  }

  /** Measures `body` as phase `name` on `page`. */
  async measure<T>(name: string, page: Page, body: () => Promise<T>): Promise<T> {
    const before = await loopGaps(page);
    const r = await body();
    this.add(name, between(before, await loopGaps(page)));
    return r;
  }

  lines(): string[] {
    const all: PhaseGaps = { turns: 0, late: [], by: [] };
    const out: string[] = [];
    for (const [name, g] of this.phases) {
      all.turns += g.turns;
      all.late.push(...g.late);
      all.by.push(...g.by);
      out.push(`host-stall-ms-p99-${name}: ${latePercentile(g.turns, g.late, 99)}`, `host-stall-ms-max-${name}: ${Math.max(0, ...g.late)}`);
    }
    const phases = [...this.phases].map(([name, g]) => `host-stall-by-source-${name}: ${bySource(g)}`);
    return [`host-stall-ms-p99: ${latePercentile(all.turns, all.late, 99)}`, `host-stall-ms-max: ${Math.max(0, ...all.late)}`, ...out, `host-stall-by-source: ${bySource(all)}`, ...phases];
  }
}

/**
 * Late turns of ≥ 50 ms by what kept the host away, largest first: `source max/count≥50ms`
 * (count of those ≥ 50 ms, the p99 target), e.g. `engine-start 461/3, replay 274/12`.
 */
function bySource(g: PhaseGaps): string {
  const m = new Map<string, { max: number; n: number }>();
  g.late.forEach((ms, i) => {
    if (ms < 50) return;
    const k = g.by[i] ?? "other";
    const e = m.get(k) ?? { max: 0, n: 0 };
    e.max = Math.max(e.max, ms);
    e.n++;
    m.set(k, e);
  });
  const rows = [...m].sort((a, b) => b[1].max - a[1].max);
  return rows.length === 0 ? "none ≥ 50 ms" : rows.map(([k, e]) => `${k} ${e.max}/${e.n}`).join(", ");
}

/**
 * Keystroke → echo: types one character at a time at the shell prompt and times, inside the page
 * (no round trip to this process), until the client's console grows. Polls through a
 * MessageChannel (setTimeout's 4 ms clamp would be coarser than what is measured). Erases the
 * line afterwards (Ctrl-U). Returns ms per keystroke.
 */
export function echoLatencies(p: Page, n: number): Promise<number[]> {
  return p.evaluate(async (n) => {
    const h = window.lockstep as LockstepHook;
    // No named functions in here: tsx (esbuild keepNames) would wrap them in a __name() the page lacks.
    const ch = new MessageChannel();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = h.clientText().length;
      const t0 = performance.now();
      h.cluster.type("x");
      const end = t0 + 5000;
      while (h.clientText().length === before && performance.now() < end) {
        await new Promise<void>((r) => {
          ch.port1.onmessage = () => r();
          ch.port2.postMessage(0);
        });
      }
      out.push(performance.now() - t0);
      // Let the guest settle between keystrokes (a typist, not a paste).
      await new Promise((r) => setTimeout(r, 60));
    }
    h.cluster.type("\u0015");
    ch.port1.close();
    return out;
  }, n);
}
