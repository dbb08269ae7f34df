import * as Comlink from "comlink";
import type { ClientMsg } from "../../ft/protocol/index.ts";
import type { FtHostApi, FtHostConfig, FtHostEvents, HostControl } from "../../host/ft-api.ts";
import type { HostHandle, HostMachines } from "../../cluster/ports.ts";
import { connectHostsOverWebRtc } from "../../channel/webrtc-pair.ts";
import { missingFeatures } from "./support.ts";

/** The page's handle on one FT host worker. `kill()` is pulling the server's plug. */
export class FtHostClient implements HostHandle {
  private readonly worker: Worker;
  private readonly api: Comlink.Remote<FtHostApi>;
  dead = false;

  constructor(readonly id: string) {
    this.worker = new Worker(new URL("../../workers/ft-host.worker.ts", import.meta.url), { type: "module", name: `host ${id}` });
    this.api = Comlink.wrap<FtHostApi>(this.worker);
  }

  start(config: FtHostConfig, events: FtHostEvents): Promise<void> {
    return this.api.start(config, Comlink.proxy(events));
  }

  /** Must be called synchronously where the channel is created (see webrtc-pair.ts). */
  attachLoggingChannel(peer: string, channel: RTCDataChannel | MessagePort): void {
    void this.api.attachLoggingChannel(peer, Comlink.transfer(channel, [channel as unknown as Transferable]));
  }

  client(msg: ClientMsg): void {
    if (!this.dead) void this.api.client(msg);
  }

  packet(frame: Uint8Array): void {
    if (!this.dead) void this.api.packet(frame);
  }

  control(c: HostControl): void {
    if (!this.dead) void this.api.control(c);
  }

  recording(): Promise<Uint8Array> {
    return this.api.recording();
  }

  kill(): void {
    this.dead = true;
    this.worker.terminate();
  }
}

let transferable: boolean | null = null;

/**
 * Whether the one-page pair's logging channel can be a WebRTC data channel. WebRTC gathers no
 * candidate on loopback, so with no network interface at all (a laptop whose Wi-Fi is down:
 * measured in Chromium 156 in a network namespace with only `lo`, the data channel never
 * opened) two workers of one page cannot connect over it; the browser says so with
 * navigator.onLine (false exactly when no interface other than loopback has an address). And a
 * browser without WebRTC, or without transferable data channels, has none to hand a worker.
 */
export function webRtcUsable(): boolean {
  transferable ??= !missingFeatures("tabs").some((f) => f.id === "datachannel-transfer");
  return navigator.onLine && transferable;
}

/** The cluster service's servers in the browser: a Web Worker per host, WebRTC between two of this page. */
export const workerMachines: HostMachines = {
  spawn(config, events) {
    const handle = new FtHostClient(config.hostId);
    return { handle, started: handle.start(config, events) };
  },
  link(a, b) {
    if (!webRtcUsable()) return messageChannelLink(a, b);
    // A data channel the browser cannot connect (Firefox's ICE between two connections of one
    // page sometimes finds no path: its host candidates are mDNS names) would leave the pair
    // without a channel: both ends are then replaced by a MessageChannel, once, in time for the
    // hosts' rendezvous; a data channel that opens later is ignored.
    let replaced = false;
    const pair = connectHostsOverWebRtc(
      (ch) => a.attachLoggingChannel(b.id, ch),
      (ch) => !replaced && b.attachLoggingChannel(a.id, ch),
    );
    let fellBack!: (text: string) => void;
    const note = new Promise<string>((r) => (fellBack = r));
    const timer = setTimeout(() => {
      replaced = true;
      // The connections stay until the link closes: closing them now could reach a worker
      // before its new channel does, as a channel error. Each worker closes its old end itself.
      messageChannelLink(a, b);
      fellBack(`the WebRTC data channel between ${a.id} and ${b.id} did not open within ${DATA_CHANNEL_OPEN_MS / 1000} s (no ICE path between two connections of this page): their logging channel is a MessageChannel instead`);
    }, DATA_CHANNEL_OPEN_MS);
    return {
      connected: Promise.race([pair.connected.then(() => clearTimeout(timer)), note.then(() => undefined)]),
      fellBack: note,
      close: () => {
        clearTimeout(timer);
        pair.close();
      },
    };
  },
};

/** How long the one page's pair waits for its data channel (it opens in well under a second). */
const DATA_CHANNEL_OPEN_MS = 6000;

/** The same-page logging channel without WebRTC: a MessageChannel (ordered and reliable as a data channel is). */
function messageChannelLink(a: HostHandle, b: HostHandle): { connected: Promise<void>; close(): void } {
  const { port1, port2 } = new MessageChannel();
  a.attachLoggingChannel(b.id, port1);
  b.attachLoggingChannel(a.id, port2);
  // Both ends now live in the workers: a killed host's end goes with its worker, and the
  // survivor's failure detector notices the silence (the page has nothing left to close).
  return { connected: Promise.resolve(), close: () => undefined };
}
