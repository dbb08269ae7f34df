// The network under FT in one Node process, as ft-net-check and bench:net build it: real v86
// engines for each host (HostRuntime), fake-indexeddb as the shared disk and lock record, and the
// page's network (src/cluster/client-network.ts: the switch and the client's own TCP/IP) on a
// real-time clock. Its clock reads `realNow`: the network's callbacks run inside engine calls,
// where `performance.now` is the guest's virtual time.
import "fake-indexeddb/auto";
import { MessagePortTransport, type LoggingChannel } from "../../src/channel/logging-channel.ts";
import { ClientNetwork } from "../../src/cluster/client-network.ts";
import type { ClusterClock, HostHandle } from "../../src/cluster/ports.ts";
import { realNow } from "../../src/engine/clock.ts";
import { guestIdentity } from "../../src/engine/manifest.ts";
import { bootImageFor } from "../../src/engine/boot-image.ts";
import { loadBootImage, loadGuest } from "../../src/engine/node/host.ts";
import { makeSession } from "../../src/engine/session.ts";
import { makeConfig, WORKER_DEFAULTS } from "../../src/ft/protocol/index.ts";
import type { FtConfig, ToClientMsg } from "../../src/ft/protocol/index.ts";
import type { HostEvent } from "../../src/host/events.ts";
import { HostRuntime } from "../../src/host/runtime.ts";
import type { HostStatus } from "../../src/host/status.ts";
import { SharedStorage } from "../../src/storage/index.ts";
import { spawnHostThread, type ThreadHost } from "./net-host-thread.ts";

export type NetHost = { id: string; dead: boolean; handle: HostHandle; rt: HostRuntime };

export interface NetRigOptions {
  /** Protocol settings over the rig's own (e.g. flow control's bounds). */
  ft?: Partial<FtConfig>;
  /** Start the pair from the boot image, as the page does (default: boot the kernel). */
  bootImage?: boolean;
  /** The pair's logging channel, its two ends (default: a MessageChannel). */
  link?: () => { a: LoggingChannel; b: LoggingChannel };
}

export async function netRig(name: string, onEvent: (id: string, e: HostEvent) => void = () => {}, onClient: (id: string, m: ToClientMsg) => void = () => {}, opts: NetRigOptions = {}) {
  const guest = loadGuest();
  const storage = await SharedStorage.open(name);
  await storage.lock.reset();
  const epoch = (await storage.lock.testAndSet(0, "A")).record.epoch;
  const session = makeSession(Date.now());
  // With `bootImage`, as the page's pairs: both restore the guest saved at its prompt, on the disk
  // as that image left it. Without, they boot the kernel on a blank disk (the guest formats it).
  const image = opts.bootImage ? loadBootImage(guest) : null;
  if (opts.bootImage && !image) throw new Error("the guest images have no boot image (npm run images:boot)");
  const bootImage = image ? { snapshot: bootImageFor(image.snapshot, session), console: image.console, sha256: image.sha256 } : null;
  const disk = storage.disk("disk", guest.manifest.disk.size_bytes, image?.disk);
  // Every VM shares this thread: more patience than a worker's detector (as ft-check).
  const ft = makeConfig({ failureTimeoutMs: 1.5 * WORKER_DEFAULTS.failureTimeoutMs, ...opts.ft }, WORKER_DEFAULTS);
  const statuses = new Map<string, HostStatus>();
  const hosts: NetHost[] = [];
  const clock: ClusterClock = {
    now: realNow,
    wallNow: Date.now,
    every: (ms, fn) => {
      const t = setInterval(fn, ms);
      return () => clearInterval(t);
    },
    after: (ms, fn) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
  };
  const network = new ClientNetwork(clock, () => hosts, () => {});

  /** A host on the network: its packets go to the switch, and the switch's to it while it lives. */
  function host(id: string, init: ConstructorParameters<typeof HostRuntime>[0]["init"]): NetHost {
    const rt = new HostRuntime({
      hostId: id, init, ft, wasm: guest.wasm, images: guest.images, session, storage, disk, realNow, guest: guestIdentity(guest.manifest), diskName: "disk", bootImage, bootImageFile: image,
      events: { toClient: (m) => onClient(id, m), toNetwork: (f) => network.fromHost(id, f), status: (s) => statuses.set(id, s), event: (e) => onEvent(id, e) },
    });
    const h: NetHost = { id, dead: false, rt, handle: { id, packet: (f: Uint8Array) => !h.dead && rt.packet(f) } as unknown as HostHandle };
    hosts.push(h);
    return h;
  }

  /** Primary A and backup B booted together, their logging channel a MessageChannel (or `opts.link`). */
  function pair(): { a: NetHost; b: NetHost } {
    const a = host("A", { role: "primary", epoch, backup: "B" });
    const b = host("B", { role: "backup", epoch, primary: "A" });
    const ends = opts.link?.() ?? messageLink();
    a.rt.attachChannel("B", ends.a);
    b.rt.attachChannel("A", ends.b);
    void a.rt.start();
    void b.rt.start();
    return { a, b };
  }

  /**
   * A host on its own thread whose logging channel's other end is `peer` here (`peerRt`): a
   * backup, or a standby for FT VMotion. Its packets reach the switch like the others'.
   */
  function threadHost(id: string, init: ConstructorParameters<typeof HostRuntime>[0]["init"], peer: NetHost, trace = false): ThreadHost {
    const ch = new MessageChannel();
    peer.rt.attachChannel(id, new MessagePortTransport(ch.port1));
    const t = spawnHostThread({ id, init, session, peer: peer.id, storeName: `${name}-${id}`, trace }, ch.port2, {
      status: (s) => statuses.set(id, s),
      packet: (f) => network.fromHost(id, f),
    });
    hosts.push({ id, get dead() { return t.dead; }, set dead(v) { t.dead = v; }, handle: { id, packet: (f: Uint8Array) => t.packet(f) } as unknown as HostHandle, rt: null as unknown as HostRuntime });
    return t;
  }

  /** Primary A here, backup B on its own thread (as two workers in the browser). */
  function threadPair(trace = false): { a: NetHost; b: ThreadHost } {
    const a = host("A", { role: "primary", epoch, backup: "B" });
    const b = threadHost("B", { role: "backup", epoch, primary: "A" }, a, trace);
    void a.rt.start();
    return { a, b };
  }

  return { guest, storage, epoch, statuses, network, hosts, host, pair, threadHost, threadPair };
}

function messageLink(): { a: LoggingChannel; b: LoggingChannel } {
  const ch = new MessageChannel();
  return { a: new MessagePortTransport(ch.port1), b: new MessagePortTransport(ch.port2) };
}
