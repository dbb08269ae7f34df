/// <reference lib="webworker" />
import * as Comlink from "comlink";
import wasmUrl from "v86/build/v86.wasm?url";
import { FtHost } from "../host/ft-host.ts";

/** A fault-tolerant host worker (src/host/ft-host.ts), exposed to the page with comlink. */
class WorkerFtHost extends FtHost {
  override recording(): Uint8Array {
    const bytes = super.recording();
    return Comlink.transfer(bytes, [bytes.buffer]);
  }
}

Comlink.expose(new WorkerFtHost(() => WebAssembly.compileStreaming(fetch(wasmUrl))));
