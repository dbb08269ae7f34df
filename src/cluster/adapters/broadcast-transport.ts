import type { ClusterTransport, LinkOffer, LoggingChannelEnd, RemoteLink } from "../ports.ts";
import type { BusMsg } from "../messages.ts";
import { BroadcastBus, BUS_NAME } from "./broadcast-bus.ts";
import { Signalling } from "./broadcast-signalling.ts";

/**
 * The members are the tabs of one origin: messages over BroadcastChannel, logging channels as
 * WebRTC data channels signalled over it, and a Web Lock as the mutual lock.
 */
export class BroadcastTransport implements ClusterTransport {
  private readonly bus: BroadcastBus;
  private readonly signalling: Signalling;

  constructor(
    readonly self: string,
    name = BUS_NAME,
  ) {
    this.bus = new BroadcastBus(name);
    this.signalling = new Signalling(this.bus, self);
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

  async isHeld(name: string): Promise<boolean> {
    const { held } = await navigator.locks.query();
    return (held ?? []).some((l) => l.name === name);
  }

  offerLink(peer: string, hand: (end: LoggingChannelEnd) => void): RemoteLink {
    return this.signalling.offer(peer, hand);
  }

  onLinkOffer(fn: (offer: LinkOffer) => void): void {
    this.signalling.onOffer = (link, from, sdp) => fn({ link, from, answer: (hand) => this.signalling.answer(link, from, sdp, hand) });
  }

  close(): void {
    this.bus.close();
  }
}
