import type { BusMsg } from "../cluster/messages.ts";
import type { ClusterTransport, LinkOffer, LoggingChannelEnd, RemoteLink } from "../cluster/ports.ts";
import type { SimNetwork } from "./sim-network.ts";

/** A member of the cluster as the bus sees it: one tab (`A2`) on a machine (`A`). */
export interface BusMember {
  readonly id: string;
  readonly name: string;
  readonly alive: boolean;
}

type Handler = (m: BusMsg) => void;

/**
 * The client mirror's messages (src/cluster/client-mirror.ts): the UI's outside world, which is
 * not the simulator's (the world's own client talks to the hosts, and the checks judge it), so
 * they are not carried: they could change nothing the simulator checks, and would double its work.
 */
const MIRROR: ReadonlySet<BusMsg["t"]> = new Set(["client-input", "client-ack", "to-client", "sync-req", "sync"]);

/**
 * The cluster service's transport between the machines' pages (src/cluster/ports.ts
 * ClusterTransport): messages to every other member over the simulated network (in order per
 * sender, delayed, cut by partitions: SimNetwork.post), the mutual lock a new VM is started
 * under, and the set-up of a logging channel between two members' hosts (the offer crosses the
 * network; its ends are simulated channels, owned by the hosts they are handed to).
 */
export class SimBus {
  private readonly transports = new Map<string, SimTransport>();
  private readonly locks = new Map<string, Promise<void>>();
  /** Shared holds: lock name → holders. A crashed member's holds no longer count (Web Locks let go). */
  private readonly holds = new Map<string, Set<BusMember>>();
  private links = 0;

  constructor(private readonly net: SimNetwork) {}

  /** @internal */
  hold(member: BusMember, name: string): () => void {
    const set = this.holds.get(name) ?? new Set<BusMember>();
    this.holds.set(name, set.add(member));
    return () => void set.delete(member);
  }

  /** @internal */
  isHeld(name: string): boolean {
    for (const m of this.holds.get(name) ?? []) if (m.alive) return true;
    return false;
  }

  join(member: BusMember): SimTransport {
    const t = new SimTransport(member, this);
    this.transports.set(member.id, t);
    return t;
  }

  /** @internal */
  leave(id: string): void {
    this.transports.delete(id);
  }

  /** @internal Also the world's forged messages (a false goodbye): sent as if by `from`. */
  send(from: BusMember, msg: BusMsg): void {
    const to: SimTransport[] = [];
    for (const t of this.transports.values()) if (t.member !== from && t.member.alive && this.net.reaches(from.name, t.member.name)) to.push(t);
    if (to.length > 0) this.net.post(from.name, () => to.forEach((t) => t.deliver(msg)));
  }

  /** @internal Like Web Locks: a crashed holder never releases (only the first tab starts a VM). */
  exclusive(name: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.locks.get(name) ?? Promise.resolve()).then(fn);
    this.locks.set(name, run.catch(() => undefined));
    return run;
  }

  /** @internal */
  offer(from: BusMember, peer: string, host: string, hand: (end: LoggingChannelEnd) => void): RemoteLink {
    const id = `${from.id}>${peer}#${++this.links}`;
    const [mine, theirs] = this.net.pair();
    const close = () => mine.close();
    hand(mine as unknown as LoggingChannelEnd);
    const target = this.transports.get(peer);
    if (target && this.net.reaches(from.name, target.member.name)) {
      const answer = (h: (end: LoggingChannelEnd) => void): RemoteLink => {
        h(theirs as unknown as LoggingChannelEnd);
        return { id, close };
      };
      this.net.post(from.name, () => target.offered({ link: id, from: from.id, host, answer }));
    }
    return { id, close };
  }
}

export class SimTransport implements ClusterTransport {
  private readonly releases: (() => void)[] = [];
  private readonly handlers = new Map<BusMsg["t"], Handler[]>();
  private offers: ((o: LinkOffer) => void)[] = [];

  constructor(
    readonly member: BusMember,
    private readonly bus: SimBus,
  ) {}

  get self(): string {
    return this.member.id;
  }

  post(msg: BusMsg): void {
    if (this.member.alive && !MIRROR.has(msg.t)) this.bus.send(this.member, msg);
  }

  on<T extends BusMsg["t"]>(t: T, handler: (m: Extract<BusMsg, { t: T }>) => void): void {
    this.handlers.set(t, [...(this.handlers.get(t) ?? []), handler as Handler]);
  }

  exclusive(name: string, fn: () => Promise<void>): Promise<void> {
    return this.bus.exclusive(name, fn);
  }

  holdShared(name: string): () => void {
    const release = this.bus.hold(this.member, name);
    this.releases.push(release);
    return release;
  }

  isHeld(name: string): Promise<boolean> {
    return Promise.resolve(this.bus.isHeld(name));
  }

  tryHold(name: string): Promise<(() => void) | null> {
    return Promise.resolve(this.bus.isHeld(name) ? null : this.holdShared(name));
  }

  offerLink(peer: string, host: string, hand: (end: LoggingChannelEnd) => void): RemoteLink {
    return this.bus.offer(this.member, peer, host, hand);
  }

  onLinkOffer(fn: (offer: LinkOffer) => void): void {
    this.offers.push(fn);
  }

  close(): void {
    for (const r of this.releases.splice(0)) r();
    this.bus.leave(this.member.id);
  }

  /** @internal */
  deliver(msg: BusMsg): void {
    if (this.member.alive) for (const h of this.handlers.get(msg.t) ?? []) h(msg);
  }

  /** @internal */
  offered(offer: LinkOffer): void {
    if (this.member.alive) for (const f of this.offers) f(offer);
  }
}
