/// <reference lib="webworker" />
// Builds machines in a row and reports each (src/engine/browser/machines.html, issue 17).
import wasmUrl from "v86/build/v86.wasm?url";
import { Machine, type MachineHooks } from "../engine/machine.ts";
import { loadGuestImages, machineImages } from "../host/images.ts";

declare const self: DedicatedWorkerGlobalScope;

const hooks: { current: MachineHooks } = {
  current: { rdrand: () => 0, serialOut() {}, netSend() {}, diskRead() {}, diskWrite() {} },
};

self.onmessage = async (ev: MessageEvent<{ imagesUrl: string; machines: number }>) => {
  try {
    const [guest, wasm] = await Promise.all([loadGuestImages(ev.data.imagesUrl, () => undefined), WebAssembly.compileStreaming(fetch(wasmUrl))]);
    const images = machineImages(guest);
    for (let built = 1; built <= ev.data.machines; built++) {
      const m = await Machine.create(wasm, images, { jit: true, clockMs: 0, epochMs: 1_700_000_000_000 }, hooks);
      m.destroy();
      self.postMessage({ built });
    }
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
};
