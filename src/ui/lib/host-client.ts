import * as Comlink from "comlink";
import type { BootResult, HostApi, HostPhase } from "../../host/api.ts";
import type { LoadProgress } from "../../host/images.ts";

export interface HostHandlers {
  progress(p: LoadProgress): void;
  phase(p: HostPhase, detail?: string): void;
  console(bytes: Uint8Array): void;
}

/** The page's handle on one host worker. Terminating it is the "pull the plug" of the demo. */
export class HostClient {
  private readonly worker: Worker;
  private readonly api: Comlink.Remote<HostApi>;

  constructor() {
    this.worker = new Worker(new URL("../../workers/host.worker.ts", import.meta.url), { type: "module", name: "host" });
    this.api = Comlink.wrap<HostApi>(this.worker);
  }

  boot(imagesUrl: string, jit: boolean, handlers: HostHandlers): Promise<BootResult> {
    return this.api.boot({ imagesUrl, jit }, Comlink.proxy(handlers));
  }

  input(text: string): void {
    void this.api.input(text);
  }

  kill(): void {
    this.worker.terminate();
  }
}
