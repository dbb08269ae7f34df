// Virtual time for v86.
//
// v86 reads time through `performance.now` (bound once, when libv86 is evaluated, into
// `v86.microtick`: PIT, ACPI PM timer, APIC timer, rdtsc) and through `Date.now()` /
// `new Date()` (RTC). installTimeShim() replaces those three globals BEFORE libv86 is imported
// with functions that return the virtual time of whichever engine is currently calling into
// v86 (`withClock`), and real time otherwise. Host code that needs real time must use
// `realNow()` / `realDateNow()` from this module (performance.now may be virtual inside calls).
//
// Virtual time of an engine: t = anchorMs + (icount - anchorIcount) / ipms, where icount is the
// 64-bit instruction count read live from the wasm counter while a frame runs. Anchors move only
// at frame boundaries, to a predicted value or to a logged one (see engine.ts).

export interface TimeSource {
  /** Virtual monotonic time in ms (what performance.now returns inside v86). */
  now(): number;
  /** Virtual wall clock in ms since the Unix epoch (what Date.now returns inside v86). */
  wallNow(): number;
}

const realPerformance = globalThis.performance;
const realPerfNow: () => number = realPerformance.now.bind(realPerformance);
const RealDate: DateConstructor = globalThis.Date;
const realDateNowFn: () => number = RealDate.now.bind(RealDate);

let active: TimeSource | null = null;
let fallback: TimeSource | null = null;
let installed = false;

/** Real monotonic milliseconds, unaffected by the shim. */
export function realNow(): number {
  return realPerfNow();
}

/** Real wall clock milliseconds, unaffected by the shim. */
export function realDateNow(): number {
  return realDateNowFn();
}

function currentPerfNow(): number {
  const src = active ?? fallback;
  return src ? src.now() : realPerfNow();
}

function currentDateNow(): number {
  const src = active ?? fallback;
  return src ? Math.floor(src.wallNow()) : realDateNowFn();
}

/** Installs the time shim (idempotent). Must run before libv86 is evaluated. */
export function installTimeShim(): void {
  if (installed) return;
  installed = true;
  try {
    Object.defineProperty(realPerformance, "now", { value: currentPerfNow, configurable: true, writable: true });
  } catch {
    (realPerformance as { now: () => number }).now = currentPerfNow;
  }
  const VirtualDate = function (this: unknown, ...args: unknown[]) {
    if (!new.target) return new RealDate(currentDateNow()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [currentDateNow()] : args, new.target);
  } as unknown as DateConstructor;
  Object.setPrototypeOf(VirtualDate, RealDate);
  (VirtualDate as { prototype: Date }).prototype = RealDate.prototype;
  Object.defineProperty(VirtualDate, "now", { value: currentDateNow, configurable: true, writable: true });
  (globalThis as { Date: DateConstructor }).Date = VirtualDate;
}

/** Runs fn with `src` as the time every v86 clock read sees. Re-entrant. */
export function withClock<T>(src: TimeSource, fn: () => T): T {
  const prev = active;
  active = src;
  try {
    return fn();
  } finally {
    active = prev;
  }
}

/**
 * Sets the clock seen by v86 code that runs outside withClock (v86's asynchronous
 * construction). Returns a function that removes it. Used only under the creation lock.
 */
export function setFallbackClock(src: TimeSource | null): () => void {
  const prev = fallback;
  fallback = src;
  return () => {
    fallback = prev;
  };
}

/** A clock that stands still; used while a machine is constructed. */
export function frozenClock(ms: number, epochMs: number): TimeSource {
  return { now: () => ms, wallNow: () => epochMs + ms };
}
