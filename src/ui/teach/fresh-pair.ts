import type { Ctx } from "./tour.ts";

/** How many times one tour run may boot a fresh pair because the last one failed over on its own. */
export const MAX_FRESH_PAIRS = 2;

/** A host of the current pair died, halted or runs alone: the pair is no longer in lockstep. */
export const pairLost = (c: Ctx): boolean =>
  c.cluster.hosts.some((h) => h.dead || h.status?.state === "halted" || h.status?.state === "alone");

/**
 * For the measuring tours: a loaded machine can stall a host past the failure timeout, and the
 * (correct) failover that follows is not what they measure and would spoil the numbers. They
 * boot a fresh pair instead, noted in the event feed, a bounded number of times per run.
 */
export function bootFreshPair(c: Ctx, why: string, changes: Parameters<Ctx["cluster"]["restart"]>[0] = {}): void {
  const n = ((c.vars.freshPairs as number | undefined) ?? 0) + 1;
  c.vars.freshPairs = n;
  if (n > MAX_FRESH_PAIRS) throw new Error(`the pair failed over ${n} times (${why}): the machine is too loaded to measure`);
  c.cluster.noteEvent("page", "info", `tour: ${why}; booting a fresh pair and measuring again`);
  void c.cluster.restart(changes);
}
