// One side of a browser record/replay pair (issue 3, item 7): the primary records the guest and
// streams encoded log batches to the backup over a MessagePort; the backup replays them as they
// arrive. Each side reports its checkpoints, console and final position/hash to the page.
// Engine-only (no FT protocol): the check that the engine is deterministic inside Chromium workers.
// The worker entry is src/workers/pair.worker.ts.

import { encodeBatch } from "../ft/log/codec.ts";
import { realDateNow, realNow } from "../engine/clock.ts";
import { ConsoleLog, macrotask, recordUntil, runWorkload, type WorkloadLine } from "../engine/drive.ts";
import { DivergenceError, LockstepEngine, type CheckpointInfo } from "../engine/engine.ts";
import { MemoryBlockDevice } from "../engine/block-device.ts";
import type { GuestImages } from "../engine/machine.ts";
import { makeSession, type SessionInfo } from "../engine/session.ts";
import type { PairSideResult, PairStart, PeerMsg } from "../engine/browser/pair-types.ts";
import { loadGuestImages, machineImages } from "./images.ts";

/** Runs one side of the pair; `loadWasm` compiles v86.wasm (the worker knows its URL). */
export function runPairSide(start: PairStart, port: MessagePort, loadWasm: () => Promise<WebAssembly.Module>): Promise<PairSideResult> {
  return start.role === "primary" ? primary(start, port, loadWasm) : backup(start, port, loadWasm);
}

async function loadGuest(imagesUrl: string, loadWasm: () => Promise<WebAssembly.Module>): Promise<{ images: GuestImages; prompt: string; wasm: WebAssembly.Module; base?: Uint8Array }> {
  const [{ manifest, files }, wasm] = await Promise.all([
    loadGuestImages(imagesUrl, () => undefined),
    loadWasm(),
  ]);
  return {
    wasm,
    prompt: manifest.prompt,
    base: manifest.disk.file ? new Uint8Array(files.get(manifest.disk.file)!) : undefined,
    images: machineImages({ manifest, files }),
  };
}

function finish(e: LockstepEngine, con: ConsoleLog, checkpoints: CheckpointInfo[], t0: number, divergence: string | null): PairSideResult {
  con.pull(e);
  return {
    role: e.mode === "record" ? "primary" : "backup",
    position: e.position(),
    stateHash: e.stateHash(),
    checkpoints,
    console: con.text,
    frames: e.stats.frames,
    divergence,
    realMs: realNow() - t0,
  };
}

async function primary(start: PairStart, port: MessagePort, loadWasm: () => Promise<WebAssembly.Module>): Promise<PairSideResult> {
  const t0 = realNow();
  const g = await loadGuest(start.imagesUrl, loadWasm);
  const session = makeSession(realDateNow());
  const checkpoints: CheckpointInfo[] = [];
  const disk = new MemoryBlockDevice(g.base ?? g.images.diskSize);
  const e = await LockstepEngine.create({
    mode: "record",
    wasm: g.wasm,
    images: g.images,
    session,
    disk,
    onCheckpoint: (c) => checkpoints.push(c),
  });
  port.postMessage({ t: "session", session } satisfies PeerMsg);
  const con = new ConsoleLog();
  let pending = 0;
  const flush = () => {
    const frames = e.takeFrames();
    pending = 0;
    if (frames.length === 0) return;
    const bytes = encodeBatch(frames);
    port.postMessage({ t: "batch", bytes } satisfies PeerMsg, [bytes.buffer]);
  };
  const onFrame = () => {
    con.pull(e);
    if (++pending >= 64) flush();
  };
  await recordUntil(e, () => con.text.includes(g.prompt), { onFrame, timeoutMs: 240_000 });
  const lines: WorkloadLine[] = start.commands.map((text) => ({ delayMs: 0, text }));
  await runWorkload(e, con, lines, g.prompt, { onFrame });
  flush();
  const result = finish(e, con, checkpoints, t0, null);
  port.postMessage({ t: "end", position: result.position } satisfies PeerMsg);
  e.destroy();
  return result;
}

async function backup(start: PairStart, port: MessagePort, loadWasm: () => Promise<WebAssembly.Module>): Promise<PairSideResult> {
  const t0 = realNow();
  const g = await loadGuest(start.imagesUrl, loadWasm);
  const queue: PeerMsg[] = [];
  let wake: (() => void) | null = null;
  port.onmessage = (ev: MessageEvent<PeerMsg>) => {
    queue.push(ev.data);
    wake?.();
  };
  const next = async (): Promise<PeerMsg> => {
    while (queue.length === 0) await new Promise<void>((r) => (wake = r));
    wake = null;
    return queue.shift()!;
  };
  const first = await next();
  if (first.t !== "session") throw new Error(`backup: expected the session first, got ${first.t}`);
  const session: SessionInfo = first.session;
  const checkpoints: CheckpointInfo[] = [];
  const e = await LockstepEngine.create({
    mode: "replay",
    wasm: g.wasm,
    images: g.images,
    session,
    onCheckpoint: (c) => checkpoints.push(c),
  });
  const con = new ConsoleLog();
  let divergence: string | null = null;
  try {
    for (;;) {
      const m = await next();
      if (m.t === "end") break;
      if (m.t !== "batch") continue;
      e.pushBatch(m.bytes);
      // Replay everything received so far, yielding so that further batches can arrive.
      let last = realNow();
      while (e.backlog > 0) {
        if (e.cloneAhead) await e.followClone();
        e.runFrame();
        con.pull(e);
        if (realNow() - last > 20) {
          await macrotask();
          last = realNow();
        }
      }
    }
  } catch (err) {
    if (!(err instanceof DivergenceError)) throw err;
    divergence = err.message;
  }
  const result = finish(e, con, checkpoints, t0, divergence);
  e.destroy();
  return result;
}
