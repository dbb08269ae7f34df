// v86 without its nested worker (issue 17).
//
// In a browser, v86's constructor starts a Worker of its own from a blob: URL: its scheduler's
// timer (`register_yield`; `yield` posts a tick to it, the tick comes back as `do_tick`). The
// engine never starts that scheduler (`autostart: false`, it calls `main_loop` itself), so the
// nested worker only costs a thread per machine. In Firefox ESR 153 it cost more: the nested
// `new Worker(...)` inside a host worker sometimes never returned, and the host's thread slept in
// a futex for good (no CPU, no timer of it fired again) while another worker of the page went on
// building machines. Measured and explained in docs/deploy.md (Browser support, issue 17).
//
// While a machine is constructed, `Worker` is an inert stand-in: v86 keeps its reference, posts
// ticks nobody answers (they would only tell a scheduler that is not running to stop) and
// terminates it on destroy.

/** What v86's scheduler uses of its Worker: `onmessage`, `postMessage`, `terminate`. */
export class InertWorker {
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  postMessage(_message: unknown): void {}
  terminate(): void {}
  addEventListener(): void {}
  removeEventListener(): void {}
}

/**
 * Replaces `globalThis.Worker` with InertWorker until the returned function is called (a no-op
 * where there is no Worker, as in Node, where v86 uses setImmediate instead).
 */
export function withoutNestedWorkers(): () => void {
  const g = globalThis as { Worker?: unknown };
  if (typeof g.Worker !== "function") return () => undefined;
  const real = g.Worker;
  g.Worker = InertWorker;
  return () => {
    g.Worker = real;
  };
}
