// A host of the Node network rig on its own thread (a worker_threads Worker), as each host is a
// worker in the browser: a backup's replay then runs beside the primary instead of taking turns
// with it on one thread. Main side: `spawnHostThread`; the worker runs this file's bottom half.
//
// Its storage is fake-indexeddb of its own thread (not shared with the main thread's): enough
// for a backup, whose engine replays the log and never reads the disk, and for a standby's FT
// VMotion; such a host must not go live (its lock record is not the primary's).
import "fake-indexeddb/auto";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { MessagePortTransport } from "../../src/channel/logging-channel.ts";
import { realNow } from "../../src/engine/clock.ts";
import { guestIdentity } from "../../src/engine/manifest.ts";
import { loadGuest } from "../../src/engine/node/host.ts";
import type { SessionInfo } from "../../src/engine/session.ts";
import { makeConfig, WORKER_DEFAULTS, type AgentInit } from "../../src/ft/protocol/index.ts";
import { HostRuntime } from "../../src/host/runtime.ts";
import type { HostStatus } from "../../src/host/status.ts";
import { SharedStorage } from "../../src/storage/index.ts";
import { installHoldTrace, portable, resetTraces, traceOf } from "./hold-trace.ts";

interface Boot {
  id: string;
  init: AgentInit;
  session: SessionInfo;
  peer: string;
  port: MessagePort;
  storeName: string;
  /** net-held: stamp the host's protocol events (scripts/lib/hold-trace.ts). */
  trace?: boolean;
}
type ToWorker = { t: "packet"; frame: Uint8Array } | { t: "stop" } | { t: "trace" };
type FromWorker =
  | { t: "status"; s: HostStatus }
  | { t: "packet"; frame: Uint8Array }
  | { t: "failed"; error: string }
  | { t: "trace"; trace: ReturnType<typeof portable> };

/** The main thread's view of a host on its own thread. */
export interface ThreadHost {
  id: string;
  dead: boolean;
  packet(frame: Uint8Array): void;
  /** Stops the host (kills it: it sends nothing more) and ends its thread. */
  stop(): void;
  /** With `trace`: the host's trace so far, emptied. */
  trace(): Promise<ReturnType<typeof portable>>;
}

export function spawnHostThread(
  boot: Omit<Boot, "port">,
  port: MessagePort,
  on: { status: (s: HostStatus) => void; packet: (f: Uint8Array) => void },
): ThreadHost {
  // tsx's loader is registered in the worker before the .ts entry is imported.
  const code = `import { register } from "tsx/esm/api"; register(); await import(${JSON.stringify(import.meta.url)});`;
  const w = new Worker(code, { eval: true, workerData: { ...boot, port }, transferList: [port as unknown as import("node:worker_threads").MessagePort] });
  const traced: ((t: ReturnType<typeof portable>) => void)[] = [];
  const h: ThreadHost = {
    id: boot.id,
    dead: false,
    packet: (frame) => {
      if (!h.dead) w.postMessage({ t: "packet", frame } satisfies ToWorker);
    },
    stop: () => {
      h.dead = true;
      w.postMessage({ t: "stop" } satisfies ToWorker);
    },
    trace: () =>
      new Promise((resolve) => {
        traced.push(resolve);
        w.postMessage({ t: "trace" } satisfies ToWorker);
      }),
  };
  w.on("message", (m: FromWorker) => {
    if (m.t === "status") on.status(m.s);
    else if (m.t === "packet") on.packet(m.frame);
    else if (m.t === "trace") traced.shift()?.(m.trace);
    else throw new Error(`host ${boot.id} on its thread failed: ${m.error}`);
  });
  w.on("error", (e) => {
    throw e;
  });
  return h;
}

if (!isMainThread && workerData?.port && workerData?.storeName) {
  const b = workerData as Boot;
  const post = (m: FromWorker) => parentPort!.postMessage(m);
  try {
    const guest = loadGuest();
    const storage = await SharedStorage.open(b.storeName);
    const disk = storage.disk("disk", guest.manifest.disk.size_bytes);
    const ft = makeConfig({ failureTimeoutMs: 1.5 * WORKER_DEFAULTS.failureTimeoutMs }, WORKER_DEFAULTS);
    const rt = new HostRuntime({
      hostId: b.id, init: b.init, ft, wasm: guest.wasm, images: guest.images, session: b.session, storage, disk, realNow, guest: guestIdentity(guest.manifest), diskName: "disk",
      events: { toClient: () => {}, toNetwork: (frame) => post({ t: "packet", frame }), status: (s) => post({ t: "status", s }), event: () => {} },
    });
    if (b.trace) installHoldTrace();
    rt.attachChannel(b.peer, new MessagePortTransport(b.port));
    parentPort!.on("message", (m: ToWorker) => {
      if (m.t === "packet") rt.packet(m.frame);
      else if (m.t === "trace") {
        post({ t: "trace", trace: portable(traceOf(b.id)) });
        resetTraces();
      } else {
        rt.stop();
        b.port.close();
        parentPort!.close();
      }
    });
    void rt.start();
  } catch (e) {
    post({ t: "failed", error: String((e as Error)?.stack ?? e) });
  }
}
