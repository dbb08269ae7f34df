import type { LoggingChannel } from "../channel/logging-channel.ts";
import type { Rng } from "./rng.ts";
import type { Scenario } from "./scenario.ts";
import type { SimNode } from "./sim-node.ts";

/** A host or the client terminal, as the network sees it. */
export type Endpoint = SimNode | "client";

const nameOf = (e: Endpoint): string => (e === "client" ? "client" : e.name);

/**
 * The simulated network: every message is delayed independently (so messages reorder), and until
 * the faults heal it may be lost, duplicated or cut by a partition (both ways or one way). A
 * message leaves at its sender's thread time and is handled on the receiver's thread.
 */
export class SimNetwork {
  messages = 0;
  /** Per machine, when its page's last post arrives (see `post`). */
  private readonly lastPost = new Map<string, number>();

  constructor(
    private readonly sc: Scenario,
    private readonly rng: Rng,
    private readonly q: { now: number; at(t: number, fn: () => void): void },
    /** The cluster transport's draws, apart, so its traffic does not move the hosts' faults. */
    private readonly postRng: Rng,
  ) {}

  send(from: Endpoint, to: Endpoint, deliver: () => void): void {
    if (from !== "client" && !from.alive) return;
    const now = from === "client" ? this.q.now : from.thread.now();
    this.messages++;
    const r = this.rng;
    const healed = now >= this.sc.healAt;
    if (!healed && (this.cut(nameOf(from), nameOf(to), now) || r.chance(this.sc.net.loss))) return;
    const copies = !healed && r.chance(this.sc.net.dup) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.sc.net.base + r.next() * (healed ? 0.5 : this.sc.net.jitter);
      this.q.at(now + delay, () => (to === "client" ? deliver() : to.thread.run(deliver)));
    }
  }

  /**
   * A cluster-service message from one machine's page to others (src/cluster's transport: a
   * BroadcastChannel between tabs). It keeps the port's promise, in order per sender, and is
   * never lost or duplicated at random; it is delayed (one delay for all its addressees: a page
   * is never busy), and cut by partitions (see `reaches`: a tab behind one is hung or unreachable).
   */
  post(from: string, deliver: () => void): void {
    const now = this.q.now;
    this.messages++;
    const healed = now >= this.sc.healAt;
    const at = Math.max(now + this.sc.net.base + this.postRng.next() * (healed ? 0.5 : this.sc.net.jitter), this.lastPost.get(from) ?? 0);
    this.lastPost.set(from, at);
    this.q.at(at, deliver);
  }

  /** Whether a page's post sent now reaches machine `to` (faults heal at healAt). */
  reaches(from: string, to: string): boolean {
    const now = this.q.now;
    return now >= this.sc.healAt || !this.cut(from, to, now);
  }

  /** A logging channel between two hosts (what WebRTC gives the product), one end each. */
  link(a: SimNode, b: SimNode): [SimChannel, SimChannel] {
    const [ea, eb] = this.pair();
    ea.owner = a;
    eb.owner = b;
    return [ea, eb];
  }

  /** A logging channel whose ends belong to whichever host they are handed to (see SimChannel.owner). */
  pair(): [SimChannel, SimChannel] {
    const ea = new SimChannel(this);
    const eb = new SimChannel(this);
    ea.peer = eb;
    eb.peer = ea;
    return [ea, eb];
  }

  private cut(from: string, to: string, now: number): boolean {
    for (const p of this.sc.partitions) {
      if (now < p.from || now >= p.to) continue;
      if (p.a === from && p.b === to) return true;
      if (!p.oneWay && p.a === to && p.b === from) return true;
    }
    return false;
  }
}

/** One end of a simulated logging channel: unordered and lossy, which the protocol must survive. */
export class SimChannel implements LoggingChannel {
  readonly lossless = false;
  onmessage: ((bytes: Uint8Array) => void) | null = null;
  onclose: (() => void) | null = null;
  ondrain: (() => void) | null = null;
  readonly bufferedAmount = 0;
  /** The "cut the logging channel" control (ChannelEndpoint.cut). */
  cut = false;
  peer!: SimChannel;
  /** The host holding this end; nothing flows until both ends are held (a channel still being set up). */
  owner: SimNode | null = null;
  private closed = false;

  constructor(private readonly net: SimNetwork) {}

  get open(): boolean {
    return !this.closed;
  }

  send(bytes: Uint8Array): void {
    const peer = this.peer;
    if (this.cut || this.closed || !this.owner || !peer.owner) return;
    this.net.send(this.owner, peer.owner, () => {
      if (!peer.closed && !peer.cut) peer.onmessage?.(bytes);
    });
  }

  /** Closing either end closes the channel (as a data channel does); what is in flight is lost. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.peer.close();
  }
}
