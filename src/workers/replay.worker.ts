/// <reference lib="webworker" />
import * as Comlink from "comlink";
import wasmUrl from "v86/build/v86.wasm?url";
import { ReplayService } from "../host/replay-service.ts";

/** The timeline's replay worker (src/host/replay-service.ts), exposed to the page with comlink. */
Comlink.expose(new ReplayService(() => WebAssembly.compileStreaming(fetch(wasmUrl))));
