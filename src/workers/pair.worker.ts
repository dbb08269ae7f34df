/// <reference lib="webworker" />
// One side of a browser record/replay pair (src/host/pair-check.ts): the page posts the start
// message with a MessagePort to the other side; the result or the error goes back to the page.
import wasmUrl from "v86/build/v86.wasm?url";
import type { PairStart } from "../engine/browser/pair-types.ts";
import { runPairSide } from "../host/pair-check.ts";

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (ev: MessageEvent<PairStart & { port: MessagePort }>) => {
  const start = ev.data;
  try {
    const result = await runPairSide(start, start.port, () => WebAssembly.compileStreaming(fetch(wasmUrl)));
    self.postMessage({ t: "result", result });
  } catch (err) {
    self.postMessage({ t: "error", message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
};
