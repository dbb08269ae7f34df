import type { ClusterTransport, LinkOffer, LoggingChannelEnd, RemoteLink } from "../ports.ts";
import type { BusMsg } from "../messages.ts";
import { BroadcastBus, BUS_NAME } from "./broadcast-bus.ts";
import { Signalling } from "./broadcast-signalling.ts";

/** The Web Lock a tab holds for as long as its document lives. */
const tabLock = (bus: string, tab: string) => `${bus}/tab/${tab}`;

/**
 * The members are the tabs of one origin: messages over BroadcastChannel, logging channels as
 * WebRTC data channels signalled over it, and a Web Lock as the mutual lock.
 *
 * A closing tab says goodbye at pagehide, but Firefox may drop a message posted then (seen in
 * Firefox ESR 153: the survivors then waited out the heartbeat timeout). So each tab also holds a
 * Web Lock named after itself, which the browser releases when the tab's document goes (closed,
 * navigated away, crashed; not hung), and watches the locks of the tabs it hears: a watcher's
 * request is granted exactly then, and it tells its own service as if the goodbye had come.
 */
export class BroadcastTransport implements ClusterTransport {
  private readonly bus: BroadcastBus;
  private readonly signalling: Signalling;
  private readonly watched = new Set<string>();

  constructor(
    readonly self: string,
    private readonly name = BUS_NAME,
  ) {
    this.bus = new BroadcastBus(name);
    this.signalling = new Signalling(this.bus, self);
    void globalThis.navigator?.locks?.request(tabLock(name, self), () => new Promise<never>(() => undefined)).catch(() => undefined);
    this.bus.on("beat", (b) => void this.watch(b.tab));
  }

  /** Waits for `tab` to go, once it is seen holding its lock (never before: that would be a false goodbye). */
  private async watch(tab: string): Promise<void> {
    const locks = globalThis.navigator?.locks;
    if (!locks || this.watched.has(tab) || tab === this.self) return;
    this.watched.add(tab);
    const lock = tabLock(this.name, tab);
    const { held = [] } = await locks.query().catch(() => ({ held: [] }));
    if (!held.some((l) => l.name === lock)) {
      this.watched.delete(tab); // not yet held: look again at its next beat
      return;
    }
    await locks.request(lock, async () => this.bus.closed || this.bus.deliver({ t: "bye", tab })).catch(() => undefined);
  }

  post(msg: BusMsg): void {
    this.bus.post(msg);
  }

  on<T extends BusMsg["t"]>(t: T, handler: (m: Extract<BusMsg, { t: T }>) => void): void {
    this.bus.on(t, handler);
  }

  async exclusive(name: string, fn: () => Promise<void>): Promise<void> {
    await navigator.locks.request(name, fn);
  }

  holdShared(name: string): () => void {
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    void navigator.locks.request(name, { mode: "shared" }, () => held);
    return release;
  }

  tryHold(name: string): Promise<(() => void) | null> {
    return new Promise((resolve) => {
      void navigator.locks.request(name, { ifAvailable: true }, (lock) => {
        if (!lock) return resolve(null);
        // Held until released, or until this tab ends (Web Locks let go of a closed tab's locks).
        return new Promise<void>((release) => resolve(() => release()));
      });
    });
  }

  async isHeld(name: string): Promise<boolean> {
    const { held } = await navigator.locks.query();
    return (held ?? []).some((l) => l.name === name);
  }

  offerLink(peer: string, host: string, hand: (end: LoggingChannelEnd) => void): RemoteLink {
    return this.signalling.offer(peer, host, hand);
  }

  onLinkOffer(fn: (offer: LinkOffer) => void): void {
    this.signalling.onOffer = (link, from, host, sdp) => fn({ link, from, host, answer: (hand) => this.signalling.answer(link, from, sdp, hand) });
  }

  close(): void {
    this.bus.close();
  }
}
