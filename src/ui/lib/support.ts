import type { Mode } from "./launch.ts";

/**
 * What Lockstep needs from the browser, checked before anything starts, so that a browser
 * lacking one says which instead of hanging (a module worker that never loads, a data channel
 * that cannot reach its worker). Each probe takes the global object, so the unit tests can hand
 * it a fake browser.
 */
export interface Feature {
  id: string;
  /** What the browser lacks, in the words of its documentation. */
  name: string;
  /** What Lockstep does with it. */
  why: string;
  /** The modes that cannot run without it. */
  modes: readonly Mode[];
  present(g: Browserish): boolean;
}

/** The parts of `globalThis` the probes look at (all optional: that is what is probed). */
export interface Browserish {
  isSecureContext?: boolean;
  Worker?: unknown;
  WebAssembly?: unknown;
  indexedDB?: unknown;
  crypto?: { subtle?: unknown };
  BroadcastChannel?: unknown;
  navigator?: { locks?: unknown };
  RTCPeerConnection?: unknown;
  MessageChannel?: unknown;
}

const ALL: readonly Mode[] = ["ft", "tabs", "plain"];

/**
 * Module workers: a browser that does not know `{ type: "module" }` ignores it and runs the
 * worker as a classic script, which fails on its first `import` where no one sees it. The
 * constructor reads the option while converting its argument: a getter that throws tells
 * whether it is read, and stops the constructor before any worker exists.
 */
function moduleWorkers(g: Browserish): boolean {
  if (typeof g.Worker !== "function") return false;
  const W = g.Worker as new (url: string, options: object) => { terminate(): void };
  let read = false;
  try {
    new W("data:,", {
      get type() {
        read = true;
        throw new Error("probe");
      },
    }).terminate();
  } catch {
    /* the probe's own throw */
  }
  return read;
}

/**
 * The logging channel is created on the page (RTCPeerConnection exists only there) and handed
 * to the host's worker: the data channel must be transferable (WebRTC Extensions). A browser
 * without it throws DataCloneError at once.
 */
function dataChannelTransfer(g: Browserish): boolean {
  if (typeof g.RTCPeerConnection !== "function" || typeof g.MessageChannel !== "function") return false;
  const pc = new (g.RTCPeerConnection as new () => RTCPeerConnection)();
  const { port1, port2 } = new (g.MessageChannel as new () => MessageChannel)();
  try {
    const dc = pc.createDataChannel("probe");
    port1.postMessage(dc, [dc as unknown as Transferable]);
    return true;
  } catch {
    return false;
  } finally {
    port1.close();
    port2.close();
    pc.close();
  }
}

export const FEATURES: readonly Feature[] = [
  {
    id: "secure-context",
    name: "a secure context (HTTPS, or http://localhost)",
    why: "browsers offer WebCrypto, service workers and storage to secure pages only",
    modes: ALL,
    present: (g) => g.isSecureContext !== false,
  },
  {
    id: "module-workers",
    name: "module workers (new Worker(url, { type: \"module\" }))",
    why: "every virtual machine runs in a Web Worker loaded as a JavaScript module",
    modes: ALL,
    present: moduleWorkers,
  },
  {
    id: "webassembly",
    name: "WebAssembly",
    why: "the x86 emulator (v86) is compiled to WebAssembly",
    modes: ALL,
    present: (g) => typeof g.WebAssembly === "object" && g.WebAssembly !== null,
  },
  {
    id: "crypto-subtle",
    name: "WebCrypto (crypto.subtle)",
    why: "the guest images are checked against their SHA-256 before they boot",
    modes: ALL,
    present: (g) => typeof g.crypto?.subtle === "object" && g.crypto.subtle !== null,
  },
  {
    id: "indexeddb",
    name: "IndexedDB",
    why: "the shared disk and the go-live lock record live in it",
    modes: ["ft", "tabs"],
    present: (g) => typeof g.indexedDB === "object" && g.indexedDB !== null,
  },
  {
    id: "broadcast-channel",
    name: "BroadcastChannel",
    why: "tabs find each other and mirror the client over it",
    modes: ["tabs"],
    present: (g) => typeof g.BroadcastChannel === "function",
  },
  {
    id: "web-locks",
    name: "Web Locks (navigator.locks)",
    why: "two tabs opened at once must not both start a VM",
    modes: ["tabs"],
    present: (g) => typeof g.navigator?.locks === "object" && g.navigator.locks !== null,
  },
  {
    id: "datachannel-transfer",
    name: "WebRTC data channels that can be transferred to a worker",
    why: "the logging channel between two tabs' hosts is a data channel handed to each host's worker",
    modes: ["tabs"],
    present: dataChannelTransfer,
  },
];

/** What this browser lacks for `mode`, in the order above (the most basic first). */
export function missingFeatures(mode: Mode, g: Browserish = globalThis as Browserish): Feature[] {
  return FEATURES.filter((f) => f.modes.includes(mode) && !safely(() => f.present(g)));
}

/** A probe that throws counts as absent: a browser's half-implementation must not crash the check. */
function safely(probe: () => boolean): boolean {
  try {
    return probe();
  } catch {
    return false;
  }
}
