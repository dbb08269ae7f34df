import { EtcdKeys, type EtcdClient, type EtcdFailure, type WatchEvent } from "../../storage/etcd/index.ts";
import type { BusMsg } from "../messages.ts";
import type { Cancel, ClusterClock, ClusterTransport, LinkOffer, LoggingChannelEnd, RemoteLink } from "../ports.ts";
import { Signalling } from "./broadcast-signalling.ts";
import { ICE_CONFIG_KEY, NO_ICE, parseIceConfig, type IceConfig } from "../../channel/ice-config.ts";
import { browserClock } from "./browser-clock.ts";
import { EtcdBus } from "./etcd-bus.ts";

export interface EtcdTransportOptions {
  /** A member whose keep-alives stop (its browser killed, its computer unplugged) is gone this long after. */
  ttlSeconds?: number;
  clock?: ClusterClock;
  /** Something the bus could not do (a post lost, a watch broken): for the page's feed. */
  onFailure?: (f: EtcdFailure) => void;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * The members are browsers on several computers, meeting in etcd (issue 14), behind the same
 * interface as the tabs' BroadcastTransport:
 * - messages: `EtcdBus` (one key per member, watched by all);
 * - membership: each member holds a lease and keeps `<p>members/<member>` under it; when its
 *   keep-alives stop, etcd deletes the key at the lease's end and every member's watch sees it:
 *   a goodbye, as a closed tab's Web Lock gives one between tabs;
 * - `exclusive`: a key created only if absent (txn on version 0) under the lease, deleted after;
 * - `holdShared`/`isHeld`: a key per holder under `<p>shared/<name>/`, under the lease;
 * - logging channels: WebRTC data channels signalled over the bus (offer, answer, candidates).
 */
export class EtcdTransport implements ClusterTransport {
  private readonly bus: EtcdBus;
  private readonly signalling: Signalling;
  private readonly root: string;
  private readonly watches: Cancel[] = [];
  private stopKeepAlive: Cancel = () => undefined;
  private closed = false;
  private lease = "";
  /** Shared holds taken and not released: put again under a new lease after losing the old one. */
  private readonly holds = new Set<string>();
  /** Resolves once this member holds a lease, is listed and hears the others. */
  readonly ready: Promise<void>;

  private constructor(
    private readonly client: EtcdClient,
    keys: EtcdKeys,
    readonly self: string,
    private readonly opts: Required<EtcdTransportOptions>,
  ) {
    this.root = `${keys.prefix}cluster/`;
    this.bus = new EtcdBus(client, `${this.root}bus/`, self, () => this.ready.then(() => this.lease), opts.onFailure);
    this.signalling = new Signalling(this.bus, self);
    this.ready = this.join();
  }

  /** At once (the page builds its service synchronously); joining goes on until etcd answers. */
  static connect(client: EtcdClient, cluster: string, self: string, options: EtcdTransportOptions = {}): EtcdTransport {
    return new EtcdTransport(client, EtcdKeys.forCluster(cluster), self, { ttlSeconds: 5, clock: browserClock, onFailure: () => undefined, ...options });
  }

  static async open(client: EtcdClient, cluster: string, self: string, options: EtcdTransportOptions = {}): Promise<EtcdTransport> {
    const t = EtcdTransport.connect(client, cluster, self, options);
    await t.ready;
    return t;
  }

  private async join(): Promise<void> {
    for (;;) {
      try {
        this.signalling.iceConfig = await this.readIceConfig();
        this.lease = (await this.client.leaseGrant(this.opts.ttlSeconds)).id;
        const revision = await this.client.put(this.memberKey, utf8(String(this.opts.clock.wallNow())), this.lease);
        this.follow(`${this.root}bus/`, revision + 1, (evs) => this.bus.receive(evs));
        this.follow(`${this.root}members/`, revision + 1, (evs) => this.membersChanged(evs));
        this.keepAlive();
        return;
      } catch (e) {
        if (e && typeof e === "object" && "failure" in e) this.opts.onFailure((e as { failure: EtcdFailure }).failure);
        else throw e;
        await new Promise<void>((r) => this.opts.clock.after(1000, r));
        if (this.closed) return;
      }
    }
  }

  /**
   * The classroom's ICE servers (a TURN relay), read before this member is listed, so before
   * any link to or from it. None stored: host candidates only. A config that is not one stays
   * unused and is said on the page (a relay-only classroom then shows no link, not a wrong one).
   */
  private async readIceConfig(): Promise<IceConfig> {
    const kv = (await this.client.range(ICE_CONFIG_KEY)).kvs[0];
    if (!kv) return NO_ICE;
    try {
      return parseIceConfig(new TextDecoder().decode(kv.value));
    } catch (e) {
      this.opts.onFailure({ kind: "malformed", endpoint: this.client.endpoint, what: `${ICE_CONFIG_KEY}: ${e instanceof Error ? e.message : String(e)}` });
      return NO_ICE;
    }
  }

  private get memberKey(): string {
    return `${this.root}members/${this.self}`;
  }

  /** Members whose lease is alive now (for the page; the service learns members from beats). */
  async members(): Promise<string[]> {
    const dir = `${this.root}members/`;
    const r = await this.client.range(dir, { end: "prefix", keysOnly: true });
    return r.kvs.map((kv) => kv.key.slice(dir.length));
  }

  private membersChanged(events: WatchEvent[]): void {
    const dir = `${this.root}members/`;
    for (const e of events) {
      const tab = e.kv.key.slice(dir.length);
      if (e.type === "delete" && tab !== this.self) this.bus.deliver({ t: "bye", tab });
    }
  }

  /** Watches `dir` from `from` on; a broken watch resumes after the last revision it delivered. */
  private follow(dir: string, from: number, onEvents: (evs: WatchEvent[]) => void): void {
    let next = from;
    let cancel: Cancel = () => undefined;
    const start = () => {
      if (this.closed) return;
      const w = this.client.watch(
        dir,
        { end: "prefix", startRevision: next },
        (evs, revision) => {
          next = Math.max(next, revision + 1);
          onEvents(evs);
        },
        (failure) => {
          if (!failure || this.closed) return;
          this.opts.onFailure(failure);
          // History compacted past where we were: what was said meanwhile is gone; go on from now.
          if (failure.kind === "http" && failure.grpcCode === 11) next = 0;
          cancel = this.opts.clock.after(1000, start);
        },
      );
      cancel = () => w.cancel();
    };
    start();
    this.watches.push(() => cancel());
  }

  /** Keep-alives at a third of the TTL; a lease found gone (etcd was out of reach too long) is replaced. */
  private keepAlive(): void {
    let busy = false;
    this.stopKeepAlive = this.opts.clock.every((this.opts.ttlSeconds * 1000) / 3, () => {
      if (busy || this.closed) return;
      busy = true;
      void (async () => {
        try {
          if ((await this.client.leaseKeepAlive(this.lease)) > 0) return;
          // The others have seen us go (a goodbye): come back as a member joining again.
          this.lease = (await this.client.leaseGrant(this.opts.ttlSeconds)).id;
          await this.client.put(this.memberKey, utf8(String(this.opts.clock.wallNow())), this.lease);
          for (const key of this.holds) await this.client.put(key, utf8("held"), this.lease);
        } catch (e) {
          if (e && typeof e === "object" && "failure" in e) this.opts.onFailure((e as { failure: EtcdFailure }).failure);
        } finally {
          busy = false;
        }
      })();
    });
  }

  post(msg: BusMsg): void {
    this.bus.post(msg);
  }

  on<T extends BusMsg["t"]>(t: T, handler: (m: Extract<BusMsg, { t: T }>) => void): void {
    this.bus.on(t, handler);
  }

  async exclusive(name: string, fn: () => Promise<void>): Promise<void> {
    await this.ready;
    const key = `${this.root}locks/${name}`;
    for (;;) {
      const r = await this.client.txn([{ key, target: "version", op: "=", revision: 0 }], [{ put: { key, value: utf8(this.self), lease: this.lease } }]);
      if (r.succeeded) break;
      await this.deleted(key, r.revision + 1);
    }
    try {
      await fn();
    } finally {
      await this.client.txn([{ key, target: "value", op: "=", value: utf8(this.self) }], [{ deleteRange: { key } }]).catch(() => undefined);
    }
  }

  /** Resolves when `key` is deleted after `from` (its holder let go, or its lease ran out), or the watch breaks. */
  private deleted(key: string, from: number): Promise<void> {
    return new Promise((resolve) => {
      const w = this.client.watch(
        key,
        { startRevision: from },
        (evs) => {
          if (evs.some((e) => e.type === "delete")) {
            w.cancel();
            resolve();
          }
        },
        () => resolve(),
      );
    });
  }

  holdShared(name: string): Cancel {
    const key = `${this.root}shared/${name}/${this.self}`;
    this.holds.add(key);
    const put = this.ready.then(() => this.client.put(key, utf8("held"), this.lease)).catch(() => undefined);
    return () => {
      this.holds.delete(key);
      void put.then(() => this.client.deleteRange(key).catch(() => undefined));
    };
  }

  /** A key created only if absent, under this member's lease (gone with the member), as `exclusive`'s. */
  async tryHold(name: string): Promise<Cancel | null> {
    await this.ready;
    const key = `${this.root}locks/${name}`;
    const r = await this.client.txn([{ key, target: "version", op: "=", revision: 0 }], [{ put: { key, value: utf8(this.self), lease: this.lease } }]);
    if (!r.succeeded) return null;
    return () => void this.client.txn([{ key, target: "value", op: "=", value: utf8(this.self) }], [{ deleteRange: { key } }]).catch(() => undefined);
  }

  async isHeld(name: string): Promise<boolean> {
    await this.ready;
    const [shared, excl] = await Promise.all([
      this.client.range(`${this.root}shared/${name}/`, { end: "prefix", countOnly: true }),
      this.client.range(`${this.root}locks/${name}`, { countOnly: true }),
    ]);
    return shared.count + excl.count > 0;
  }

  offerLink(peer: string, host: string, hand: (end: LoggingChannelEnd) => void): RemoteLink {
    return this.signalling.offer(peer, host, hand);
  }

  onLinkOffer(fn: (offer: LinkOffer) => void): void {
    this.signalling.onOffer = (link, from, host, sdp) => fn({ link, from, host, answer: (hand) => this.signalling.answer(link, from, sdp, hand) });
  }

  /** A polite leave: the lease is revoked, so every member sees our key go at once. */
  close(): void {
    this.closed = true;
    this.bus.closed = true;
    this.stopKeepAlive();
    for (const c of this.watches.splice(0)) c();
    if (this.lease) void this.client.leaseRevoke(this.lease).catch(() => undefined);
  }

  /** A crash, for tests: keep-alives and watches stop, nothing is revoked; etcd notices at the TTL. */
  vanish(): void {
    this.closed = true;
    this.bus.closed = true;
    this.stopKeepAlive();
    for (const c of this.watches.splice(0)) c();
  }
}
