import { MACHINE_DEFAULTS, makeConfig, TAB_DEFAULTS, WORKER_DEFAULTS, type ClientMsg } from "../ft/protocol/index.ts";
import { DataChannelTransport, MessagePortTransport } from "../channel/logging-channel.ts";
import { IdbBulkStore, StorageRefusedError, storageRefusal } from "../storage/index.ts";
import { realNow } from "../engine/clock.ts";
import { guestIdentity } from "../engine/manifest.ts";
import { makeSession } from "../engine/session.ts";
import { agentInitOf, type FtHostApi, type FtHostConfig, type FtHostEvents, type HostControl } from "./ft-api.ts";
import { bootImageOf, bootSnapshotOf, loadGuestImages, machineImages } from "./images.ts";
import { bootImageFor } from "../engine/boot-image.ts";
import { openHostStorage, type OpenedStorage } from "./open-storage.ts";
import { HostRuntime } from "./runtime.ts";

/**
 * A host as a worker runs it: one of the paper's physical servers. It loads the guest, opens the
 * shared storage and runs the HostRuntime; the page only relays channels, the client and controls.
 * The worker entry (src/workers/ft-host.worker.ts) exposes it with comlink.
 */
export class FtHost implements FtHostApi {
  private runtime: HostRuntime | null = null;
  private storage: OpenedStorage | null = null;
  private bulk: IdbBulkStore | undefined;
  private earlyChannel: Parameters<FtHostApi["attachLoggingChannel"]> | null = null;
  /** The world was frozen before the runtime existed (a host spawned during the lecture's pause). */
  private worldFrozen = false;

  /** `loadWasm`: v86.wasm compiled (the worker knows its URL). */
  constructor(private readonly loadWasm: () => Promise<WebAssembly.Module>) {}

  async start(config: FtHostConfig, events: FtHostEvents): Promise<void> {
    // Between computers (etcd) there is no IndexedDB both browsers see: snapshots take the channel.
    const snapshotVia = config.etcd ? "channel" : (config.snapshotVia ?? (config.transport === "tabs" ? "storage" : "channel"));
    const refused = (e: unknown): never => {
      throw new StorageRefusedError(storageRefusal(e) ?? { cause: "refused", error: String(e) });
    };
    // Only a pair started together runs the guest from the start; a standby waits for a clone.
    const fromImage = config.role !== "standby" && config.start !== "cold";
    // A standby loads it too: the recording its clone brings starts there, left out of the transfer.
    const [loaded, wasm, bulk] = await Promise.all([
      loadGuestImages(config.imagesUrl, (p) => events.progress(p), undefined, { bootImage: config.start !== "cold" }),
      this.loadWasm(),
      snapshotVia === "storage" ? IdbBulkStore.open(config.dbName).catch(refused) : undefined,
    ]);
    this.bulk = bulk;
    const { manifest, files } = loaded;
    const images = machineImages(loaded);
    const booted = fromImage ? await bootImageOf(loaded) : null;
    const bootImageFile = booted ?? (config.start !== "cold" ? await bootSnapshotOf(loaded) : null);
    // From the boot image, the disk starts as the boot left it (the image's kernel has it mounted).
    const base = booted ? booted.disk : manifest.disk.file ? new Uint8Array(files.get(manifest.disk.file)!) : undefined;
    const opened = (this.storage = await openHostStorage(config, manifest.disk.size_bytes, base));
    const ft = makeConfig(
      { diskMode: config.diskMode, readMode: config.readMode, ...(config.noOutputRule ? { unsafe: { noOutputRule: true } } : {}) },
      config.etcd ? MACHINE_DEFAULTS : config.transport === "tabs" ? TAB_DEFAULTS : WORKER_DEFAULTS,
    );
    const init = agentInitOf(config);
    const session =
      config.role === "standby"
        ? null
        : makeSession(config.sessionEpochMs, {
            diskReads: config.readMode === "backup-reads" ? "backup" : "log",
            ...(config.diskCache === false ? { diskCacheBytes: 0 } : {}),
          });
    this.runtime = new HostRuntime({
      hostId: config.hostId,
      init,
      ft,
      wasm,
      images,
      session,
      storage: opened.storage,
      disk: opened.disk,
      diskName: opened.diskName,
      ...(bulk ? { bulk } : {}),
      realNow,
      guest: guestIdentity(manifest),
      bootImage: booted && session ? { snapshot: bootImageFor(booted.snapshot, session), console: booted.console, sha256: booted.sha256 } : null,
      bootImageFile,
      events: {
        toClient: (m) => events.toClient(m),
        toNetwork: (f) => events.toNetwork?.(f),
        status: (s) => events.status(s),
        event: (e) => events.event(e),
      },
    });
    if (this.worldFrozen) this.runtime.freezeWorld(true);
    if (this.earlyChannel) this.attachLoggingChannel(...this.earlyChannel);
    await this.runtime.start();
  }

  attachLoggingChannel(peer: string, channel: RTCDataChannel | MessagePort): void {
    if (!this.runtime) {
      // The page hands the channel over at once (a data channel cannot wait); we may still be loading.
      this.earlyChannel = [peer, channel];
      return;
    }
    const transport = channel instanceof MessagePort ? new MessagePortTransport(channel) : new DataChannelTransport(channel);
    this.runtime.attachChannel(peer, transport);
  }

  client(msg: ClientMsg): void {
    this.runtime?.client(msg);
  }

  packet(frame: Uint8Array): void {
    this.runtime?.packet(frame);
  }

  recording(): Uint8Array {
    if (!this.runtime) throw new Error("host not started");
    return this.runtime.recording();
  }

  control(c: HostControl): void {
    const r = this.runtime;
    switch (c.t) {
      case "cut-channel":
        r?.cutChannel();
        break;
      case "storage":
        this.storage?.availability.set(c.available);
        break;
      case "freeze-world":
        this.worldFrozen = c.on;
        r?.freezeWorld(c.on);
        break;
      case "freeze": {
        // A hung machine: nothing in this worker runs, not even heartbeats.
        const end = realNow() + c.ms;
        while (realNow() < end) {
          /* spin */
        }
        break;
      }
      case "start-clone":
        r?.startClone(c.target);
        break;
      case "remus":
        r?.setRemus(c.epochMs);
        break;
      case "zombie-write":
        void r?.zombieWrite();
        break;
      case "peer-left":
        r?.peerLeft(c.host);
        break;
      case "fail-after-output":
        r?.failAfterOutput(c.line);
        break;
      case "power-off":
        r?.powerOff();
        break;
      case "vm-pause":
        r?.setVmPaused(c.paused);
        break;
      case "vm-step":
        r?.stepVm();
        break;
      case "vm-pace":
        r?.setPace(c.pace);
        break;
      case "replay-speed":
        r?.setReplaySpeed(c.factor);
        break;
    }
  }

  async stop(): Promise<void> {
    this.runtime?.stop();
    this.storage?.close();
    this.bulk?.close();
  }
}
