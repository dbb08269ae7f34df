/**
 * Caption pace: how long captions stay up, as a factor on their reading time (tour.ts). The
 * panel offers three; `?pace=` keeps the choice in the URL (and accepts any positive number,
 * e.g. 0.2 for quick test runs).
 */
export const PACE_CHOICES = [
  { id: "slow", label: "slow", factor: 1.5 },
  { id: "normal", label: "normal", factor: 1 },
  { id: "fast", label: "fast", factor: 0.6 },
] as const;

/** The pace a `?pace=` value asks for: a positive number, or 1. */
export function paceFromParam(value: string | null): number {
  const n = Number(value ?? "1");
  return Number.isFinite(n) && n > 0 ? n : 1;
}

/** The page's URL with `pace` in it (normal pace: no parameter), other parameters untouched. */
export function urlWithPace(href: string, pace: number): string {
  const u = new URL(href);
  if (pace === 1) u.searchParams.delete("pace");
  else u.searchParams.set("pace", String(pace));
  return u.href;
}

/** The choice a factor matches, or null for a custom one (from the URL). */
export const paceChoice = (pace: number) => PACE_CHOICES.find((p) => p.factor === pace) ?? null;
