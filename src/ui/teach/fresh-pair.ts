import type { Ctx } from "./tour.ts";

/** How many times one tour run may boot a fresh pair because the last one failed over on its own. */
export const MAX_FRESH_PAIRS = 2;

/** A host of the current pair died, halted or runs alone: the pair is no longer in lockstep. */
export const pairLost = (c: Ctx): boolean =>
  c.cluster.hosts.some((h) => h.dead || h.status?.state === "halted" || h.status?.state === "alone");

/**
 * The pair is not one the page just booted: a host lost, a failover or FT VMotion since (epoch
 * above 1), storage switched off, or options an earlier tour changed. Tours assume a fresh pair,
 * so their first step starts one (tours back to back in one page, no reload).
 */
export const pairChanged = (c: Ctx): boolean =>
  pairLost(c) || (c.cluster.lock?.epoch ?? 1) > 1 || !c.cluster.storageAvailable || c.cluster.optionsChanged;

/** A tour's first step: a fresh pair unless the current one is untouched (noted in the feed). */
export function freshPairForTour(c: Ctx): void {
  if (!pairChanged(c)) return;
  c.cluster.noteEvent("page", "info", "tour: the pair was changed by an earlier tour or a control; booting a new pair");
  void c.cluster.newPair();
}

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
