import type { LoadProgress } from "./images.ts";

/** What the page asks of a host worker. The worker implements it; comlink carries it. */
export interface HostApi {
  boot(options: BootOptions, events: HostEvents): Promise<BootResult>;
  /** Console input typed by the user, as UTF-8 text. */
  input(text: string): void;
  stop(): Promise<void>;
}

export interface BootOptions {
  /** URL of the folder holding manifest.json and the images (public/images). */
  imagesUrl: string;
  /** Debug switch only: without the JIT the guest runs about 7x slower. */
  jit: boolean;
}

export interface BootResult {
  /** Worker time from boot() to the first shell prompt. */
  bootMs: number;
  memoryMb: number;
}

export type HostPhase = "loading" | "booting" | "ready" | "stopped" | "failed";

export interface HostEvents {
  progress(p: LoadProgress): void;
  phase(p: HostPhase, detail?: string): void;
  console(bytes: Uint8Array): void;
}
