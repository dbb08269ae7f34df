import type { GuestImages } from "../engine/machine.ts";
import { decodeRecording, type GuestIdentity } from "../engine/recording.ts";
import { guestIdentity } from "../engine/manifest.ts";
import { SessionReplayer } from "../engine/replay/session-replayer.ts";
import type { ReplaySummary, ReplayView, ReplayWorkerApi } from "../engine/replay/types.ts";
import { loadGuestImages, machineImages } from "./images.ts";

/**
 * The timeline's replayer: replays imported (or exported-from-live) session recordings in an
 * engine of its own. It shares nothing with the live hosts but the page, so scrubbing never
 * touches the running VMs. The worker entry (src/workers/replay.worker.ts) exposes it.
 */
export class ReplayService implements ReplayWorkerApi {
  private guest: Promise<{ wasm: WebAssembly.Module; images: GuestImages; identity: GuestIdentity }> | null = null;
  private replayer: SessionReplayer | null = null;

  /** `loadWasm`: v86.wasm compiled (the worker knows its URL). */
  constructor(private readonly loadWasm: () => Promise<WebAssembly.Module>) {}

  private loadGuest(imagesUrl: string) {
    this.guest ??= (async () => {
      const [{ manifest, files }, wasm] = await Promise.all([
        loadGuestImages(imagesUrl, () => undefined),
        this.loadWasm(),
      ]);
      const images = machineImages({ manifest, files });
      return { wasm, images, identity: guestIdentity(manifest) };
    })();
    this.guest.catch(() => (this.guest = null));
    return this.guest;
  }

  async load(imagesUrl: string, bytes: Uint8Array, progress: (frame: number) => void): Promise<ReplaySummary> {
    const rec = decodeRecording(bytes);
    const g = await this.loadGuest(imagesUrl);
    if (JSON.stringify(rec.meta.guest) !== JSON.stringify(g.identity)) {
      throw new Error("this recording was made with other guest images (kernel, initrd, BIOS or memory size differ); it cannot replay here");
    }
    const next = new SessionReplayer(g.wasm, g.images, rec, progress);
    // Only now, with the whole file checked, does the new recording replace the old one.
    this.replayer?.destroy();
    this.replayer = next;
    return next.summary(bytes.length);
  }

  seek(frame: number, exact = false): Promise<ReplayView> {
    if (!this.replayer) return Promise.reject(new Error("no recording loaded"));
    return this.replayer.seek(frame, exact);
  }
}

