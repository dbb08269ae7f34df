import type { ClusterTransport, LinkOffer, LoggingChannelEnd, RemoteLink } from "../ports.ts";
import type { BusMsg } from "../messages.ts";

type Handler = (m: BusMsg) => void;

const messagePorts = (): [LoggingChannelEnd, LoggingChannelEnd] => {
  const c = new MessageChannel();
  return [c.port1, c.port2];
};

/**
 * Members of one process: the one page (a member alone), the unit tests and a simulator
 * (several). Like BroadcastChannel, a message reaches every other member, later (a microtask),
 * in order per sender. A member can be cut off (a crashed or hung tab): it hears and says nothing.
 */
export class InMemoryHub {
  private readonly members = new Map<string, InMemoryTransport>();
  private readonly cutOff = new Set<string>();
  private queue: (() => void)[] = [];
  private readonly locks = new Map<string, Promise<void>>();
  /** Shared holds: lock name → the members holding it. */
  private readonly holds = new Map<string, Set<string>>();
  private links = 0;

  constructor(private readonly channelPair: () => [LoggingChannelEnd, LoggingChannelEnd] = messagePorts) {}

  join(self: string): InMemoryTransport {
    const t = new InMemoryTransport(self, this);
    this.members.set(self, t);
    return t;
  }

  /** The member stops hearing and being heard, as a crashed tab (no goodbye). */
  cut(self: string): void {
    this.cutOff.add(self);
  }

  /** A hung member wakes up: it hears and is heard again. */
  uncut(self: string): void {
    this.cutOff.delete(self);
  }

  /** A crashed tab: cut off, and the browser releases the Web Locks it held (a hung one keeps them). */
  crash(self: string): void {
    this.cut(self);
    for (const holders of this.holds.values()) holders.delete(self);
  }

  /** @internal */
  leave(self: string): void {
    this.members.delete(self);
  }

  /** @internal */
  send(from: string, msg: BusMsg): void {
    if (this.cutOff.has(from)) return;
    for (const [id, m] of this.members) if (id !== from) this.later(id, () => m.deliver(msg));
  }

  /** @internal */
  hold(self: string, name: string): () => void {
    const set = this.holds.get(name) ?? new Set<string>();
    this.holds.set(name, set.add(self));
    return () => void set.delete(self);
  }

  /** @internal */
  isHeld(name: string): boolean {
    return (this.holds.get(name)?.size ?? 0) > 0;
  }

  /** @internal */
  exclusive(name: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.locks.get(name) ?? Promise.resolve()).then(fn);
    this.locks.set(name, run.catch(() => undefined));
    return run;
  }

  /** @internal */
  offer(from: string, peer: string, host: string, hand: (end: LoggingChannelEnd) => void): RemoteLink {
    const id = `${from}>${peer}#${++this.links}`;
    const [mine, theirs] = this.channelPair();
    hand(mine);
    const close = () => {
      for (const end of [mine, theirs]) if ("close" in end) end.close();
    };
    const target = this.members.get(peer);
    if (target && !this.cutOff.has(from)) {
      const answer = (h: (end: LoggingChannelEnd) => void): RemoteLink => {
        h(theirs);
        return { id, close };
      };
      const offer: LinkOffer = { link: id, from, host, answer };
      this.later(peer, () => target.offered(offer));
    }
    return { id, close };
  }

  private later(to: string, fn: () => void): void {
    this.queue.push(() => this.cutOff.has(to) || fn());
    if (this.queue.length === 1) queueMicrotask(() => this.drain());
  }

  private drain(): void {
    while (this.queue.length > 0) this.queue.shift()!();
  }
}

export class InMemoryTransport implements ClusterTransport {
  private readonly handlers = new Map<BusMsg["t"], Handler[]>();
  private offers: ((o: LinkOffer) => void)[] = [];
  private closed = false;
  private readonly releases: (() => void)[] = [];

  constructor(
    readonly self: string,
    private readonly hub: InMemoryHub,
  ) {}

  post(msg: BusMsg): void {
    if (!this.closed) this.hub.send(this.self, msg);
  }

  on<T extends BusMsg["t"]>(t: T, handler: (m: Extract<BusMsg, { t: T }>) => void): void {
    this.handlers.set(t, [...(this.handlers.get(t) ?? []), handler as Handler]);
  }

  exclusive(name: string, fn: () => Promise<void>): Promise<void> {
    return this.hub.exclusive(name, fn);
  }

  holdShared(name: string): () => void {
    const release = this.hub.hold(this.self, name);
    this.releases.push(release);
    return release;
  }

  isHeld(name: string): Promise<boolean> {
    return Promise.resolve(this.hub.isHeld(name));
  }

  tryHold(name: string): Promise<(() => void) | null> {
    return Promise.resolve(this.hub.isHeld(name) ? null : this.holdShared(name));
  }

  offerLink(peer: string, host: string, hand: (end: LoggingChannelEnd) => void): RemoteLink {
    return this.hub.offer(this.self, peer, host, hand);
  }

  onLinkOffer(fn: (offer: LinkOffer) => void): void {
    this.offers.push(fn);
  }

  close(): void {
    this.closed = true;
    for (const r of this.releases.splice(0)) r();
    this.hub.leave(this.self);
  }

  /** @internal */
  deliver(msg: BusMsg): void {
    if (!this.closed) for (const h of this.handlers.get(msg.t) ?? []) h(msg);
  }

  /** @internal */
  offered(offer: LinkOffer): void {
    if (!this.closed) for (const f of this.offers) f(offer);
  }
}
