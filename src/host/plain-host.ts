import { V86 } from "v86";
import type { BootOptions, BootResult, HostApi, HostEvents } from "./api.ts";
import { loadGuestImages } from "./images.ts";
import { PromptWatch } from "./prompt-watch.ts";

/**
 * A plain host (`?mode=plain`): one VM in its own worker, so that killing the worker is killing
 * the machine. The page never touches the emulator; it sees console bytes and lifecycle phases.
 * The worker entry (src/workers/host.worker.ts) exposes it with comlink.
 */
export class PlainHost implements HostApi {
  private emulator: V86 | null = null;
  private pending: number[] = [];
  private flushQueued = false;

  /** `wasmPath`: where v86.wasm is served (the worker knows its URL). */
  constructor(private readonly wasmPath: string) {}

  async boot(options: BootOptions, events: HostEvents): Promise<BootResult> {
    const started = performance.now();
    events.phase("loading");
    const { manifest, files } = await loadGuestImages(options.imagesUrl, (p) => events.progress(p));
    events.phase("booting");

    const disk = manifest.disk.file ? files.get(manifest.disk.file)!.slice(0) : new ArrayBuffer(manifest.disk.size_bytes);
    const watch = new PromptWatch(manifest.ready_line, manifest.prompt);
    const emulator = new V86({
      wasm_path: this.wasmPath,
      memory_size: manifest.memory_mb * 1024 * 1024,
      vga_memory_size: 2 * 1024 * 1024,
      bios: { buffer: files.get(manifest.bios)! },
      vga_bios: { buffer: files.get(manifest.vga_bios)! },
      bzimage: { buffer: files.get(manifest.bzimage)! },
      initrd: { buffer: files.get(manifest.initrd)! },
      cmdline: manifest.cmdline,
      hda: { buffer: disk },
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
      disable_jit: !options.jit,
      autostart: true,
    });
    this.emulator = emulator;

    return new Promise<BootResult>((resolve) => {
      emulator.add_listener("serial0-output-byte", (byte: number) => {
        this.pending.push(byte);
        // One message per emulator time slice, not per byte: comlink calls are postMessages.
        if (!this.flushQueued) {
          this.flushQueued = true;
          queueMicrotask(() => {
            const chunk = Uint8Array.from(this.pending);
            this.pending = [];
            this.flushQueued = false;
            events.console(chunk);
            if (watch.feed(chunk)) {
              events.phase("ready");
              resolve({ bootMs: performance.now() - started, memoryMb: manifest.memory_mb });
            }
          });
        }
      });
    });
  }

  input(text: string): void {
    this.emulator?.serial0_send(text);
  }

  async stop(): Promise<void> {
    await this.emulator?.destroy();
    this.emulator = null;
  }
}

