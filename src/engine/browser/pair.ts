// Page side of the browser record/replay pair: two module workers, the log over a
// MessageChannel between them. Usage (any page of the app):
//
//   const r = await runLockstepPair({ imagesUrl: "/images/", commands: ["kv set a b", "kv get a"] });
//   r.identical  // checkpoints, final state hash, position and console all equal, no divergence

import type { PairResult, PairSideResult, PairStart } from "./pair-types.ts";

export type { PairResult, PairSideResult } from "./pair-types.ts";

function side(start: PairStart, port: MessagePort): { result: Promise<PairSideResult>; worker: Worker } {
  const worker = new Worker(new URL("../../workers/pair.worker.ts", import.meta.url), { type: "module", name: `lockstep-${start.role}` });
  const result = new Promise<PairSideResult>((resolve, reject) => {
    worker.onmessage = (ev: MessageEvent<{ t: "result"; result: PairSideResult } | { t: "error"; message: string }>) => {
      if (ev.data.t === "result") resolve(ev.data.result);
      else reject(new Error(`${start.role}: ${ev.data.message}`));
    };
    worker.onerror = (ev) => reject(new Error(`${start.role} worker: ${ev.message}`));
  });
  worker.postMessage({ ...start, port }, [port]);
  return { result, worker };
}

export async function runLockstepPair(opts: { imagesUrl: string; commands: string[] }): Promise<PairResult> {
  const channel = new MessageChannel();
  const b = side({ role: "backup", imagesUrl: opts.imagesUrl, commands: [] }, channel.port2);
  const p = side({ role: "primary", imagesUrl: opts.imagesUrl, commands: opts.commands }, channel.port1);
  try {
    const [primary, backup] = await Promise.all([p.result, b.result]);
    const sameCheckpoints =
      primary.checkpoints.length === backup.checkpoints.length &&
      primary.checkpoints.every((c, i) => JSON.stringify(c) === JSON.stringify(backup.checkpoints[i]));
    const identical =
      backup.divergence === null &&
      sameCheckpoints &&
      primary.stateHash === backup.stateHash &&
      primary.position.frame === backup.position.frame &&
      primary.position.icount === backup.position.icount &&
      primary.console === backup.console;
    return { primary, backup, identical };
  } finally {
    p.worker.terminate();
    b.worker.terminate();
  }
}
