import type { AgentInit, FtConfig } from "../ft/protocol/index.ts";
import { realDateNow } from "../engine/clock.ts";
import type { GuestImages } from "../engine/machine.ts";
import type { GuestIdentity } from "../engine/recording.ts";
import type { SessionInfo } from "../engine/session.ts";
import type { BulkStore } from "./channel-endpoint.ts";
import { Host } from "./host.ts";
import type { HostDisk, HostStorage, RuntimeEvents } from "./ports.ts";
import { realScheduler } from "./scheduler.ts";
import { v86Engines } from "./v86-engines.ts";

export type { RuntimeEvents } from "./ports.ts";

export interface RuntimeDeps {
  hostId: string;
  init: AgentInit;
  ft: FtConfig;
  wasm: WebAssembly.Module;
  images: GuestImages;
  /** Both sides of a pair booted together must share it; a standby takes the one its clone carries. */
  session: SessionInfo | null;
  /** IndexedDB (SharedStorage) or etcd (EtcdStorage): only the lock record is used here. */
  storage: HostStorage;
  /** The shared disk, or with a non-shared disk (paper 4.1) this host's own copy. */
  disk: HostDisk;
  /** What the UI calls that disk (the shared disk's id, or the own copy's database). */
  diskName: string;
  /** Set when FT VMotion snapshots travel through shared storage rather than the data channel. */
  bulk?: BulkStore;
  events: RuntimeEvents;
  realNow: () => number;
  /** The guest images' identity, written into session recordings. */
  guest: GuestIdentity;
  /** A pair started together restores this boot image (its snapshot carrying `session`) instead of booting. */
  bootImage?: { snapshot: Uint8Array; console: Uint8Array; sha256: string } | null;
  /** The boot image as shipped, named by its file's sha256: fills in recordings that left it out. */
  bootImageFile?: { snapshot: Uint8Array; sha256: string } | null;
}

/**
 * A host of the real system: v86 engines, IndexedDB or etcd storage, the event loop's timers. Used by
 * the host worker (src/workers/ft-host.worker.ts via ft-host.ts) and by `npm run ft-check`.
 */
export class HostRuntime extends Host {
  constructor(deps: RuntimeDeps) {
    super({
      hostId: deps.hostId,
      init: deps.init,
      ft: deps.ft,
      engines: v86Engines(deps),
      storage: deps.storage,
      disk: deps.disk,
      diskName: deps.diskName,
      ...(deps.bulk ? { bulk: deps.bulk } : {}),
      events: deps.events,
      scheduler: realScheduler(deps.realNow, realDateNow),
    });
  }
}
