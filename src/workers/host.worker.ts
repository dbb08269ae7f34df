/// <reference lib="webworker" />
import * as Comlink from "comlink";
import wasmUrl from "v86/build/v86.wasm?url";
import { PlainHost } from "../host/plain-host.ts";

/** A plain host worker (src/host/plain-host.ts), exposed to the page with comlink. */
Comlink.expose(new PlainHost(wasmUrl));
