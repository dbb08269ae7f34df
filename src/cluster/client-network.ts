// The outside world's network in the page (issue 13): a learning switch (src/net/switch.ts)
// with one port per host of this member and one for the client, and the client's own TCP/IP
// (src/net/client-stack.ts). Hosts put on it only what their Output Rule released; every host
// hears what the client sends, but only a live primary takes it (the protocol drops it
// elsewhere). When a backup goes live it announces the VM's MAC and the switch moves it: the
// `learned` list is the moment the network follows the failover.

import { ClientLink, type LinkSettings, type LinkStats } from "../net/client-link.ts";
import { ClientStack } from "../net/client-stack.ts";
import { HttpGet } from "../net/http-get.ts";
import type { CloseReason, TcpConnection } from "../net/tcp.ts";
import type { StackStats } from "../net/client-stack.ts";
import { VirtualSwitch, type Learned, type SwitchStats } from "../net/switch.ts";
import { emptyTcpStats, type TcpStats } from "../net/tcp-types.ts";
import type { Cancel, ClusterClock, ClusterTransport, HostHandle } from "./ports.ts";

export const GUEST_IP = "10.0.2.15";
/** The one page's client; a tab's client takes another host number of 10.0.2.0/24 (see `address`). */
export const CLIENT_HOST = 2;
export const CLIENT_IP = clientIp(CLIENT_HOST);
export const CLIENT_MAC = clientMac(CLIENT_HOST);
const CLIENT_PORT = "client";

export function clientIp(n: number): string {
  return `10.0.2.${n}`;
}

export function clientMac(n: number): string {
  return `02:00:00:00:00:${n.toString(16).padStart(2, "0")}`;
}

/**
 * Tab mode: the other members' switches, one trunk port each. Every tab has its own client (its
 * own MAC and IP), so the guest answers the tab that asked, wherever the live primary runs.
 */
export interface MemberLinks {
  others(): readonly string[];
  send(to: string, frame: Uint8Array): void;
}

export interface ClientNetworkOptions {
  seed?: number;
  /** This client's host number in 10.0.2.0/24, found when the network is first used (tabs pick a free one); default CLIENT_HOST at once. */
  address?: () => Promise<number>;
  members?: MemberLinks;
}
const TICK_MS = 20;

export interface DownloadView {
  id: number;
  path: string;
  state: "running" | "done" | "failed";
  status: number | null;
  received: number;
  total: number | null;
  /** Hex sha256 of the body, once done. */
  sha256: string | null;
  /** The body as text, when done and small (a page, a CGI's answer). */
  text: string | null;
  error: string | null;
  /** TCP connections this download used: always 1 (HTTP/1.0, no reconnect). */
  connections: number;
  tcp: TcpStats;
  /** Clock times of the request and of the response's last byte (bench:net's latency). */
  startedAt: number;
  doneAt: number | null;
}

export interface NetworkView {
  learned: (Learned & { at: number })[];
  switch: SwitchStats;
  stack: StackStats;
  downloads: DownloadView[];
  link: LinkSettings & { stats: LinkStats };
  /** This client's IP (null until a tab's client has picked one). */
  clientIp: string | null;
}

interface NetHost {
  id: string;
  dead: boolean;
  handle: HostHandle;
}

export class ClientNetwork {
  private readonly sw: VirtualSwitch;
  private stack: ClientStack | null = null;
  private clientHost: number | null = null;
  private readonly link: ClientLink;
  private readonly learned: (Learned & { at: number })[] = [];
  private readonly ports = new Set<string>();
  private readonly downloads: { id: number; path: string; get: HttpGet | null; view: DownloadView }[] = [];
  /** Work waiting for a tab's client to have its address. */
  private waiting: (() => void)[] | null = null;
  private timer: Cancel | null = null;
  private isn: number;

  constructor(
    private readonly clock: ClusterClock,
    private readonly hosts: () => readonly NetHost[],
    private readonly changed: () => void,
    private readonly opts: ClientNetworkOptions = {},
  ) {
    const seed = opts.seed ?? 0x1ced;
    this.isn = seed >>> 0;
    this.sw = new VirtualSwitch((l) => {
      this.learned.push({ ...l, at: this.clock.now() });
      this.changed();
    });
    this.link = new ClientLink((ms, fn) => void this.clock.after(ms, fn), seed);
    if (!opts.address) this.plugClient(CLIENT_HOST);
  }

  /** A frame from another member's switch (tab mode). */
  fromMember(tab: string, frame: Uint8Array): void {
    this.syncPorts();
    this.sw.input(trunk(tab), frame);
  }

  /** The client's cable: pulled (a partition between the client and the hosts), lossy, slow. */
  setLink(s: Partial<LinkSettings>): void {
    this.link.set(s);
    this.changed();
  }

  /** A packet a host's Output Rule released. */
  fromHost(hostId: string, frame: Uint8Array): void {
    this.syncPorts();
    this.sw.input(hostId, frame);
  }

  /** GET `path` from the guest's httpd over one TCP connection; progress shows in view(). */
  download(path: string): number {
    const id = this.downloads.length + 1;
    const view: DownloadView = {
      id, path, state: "running", status: null, received: 0, total: null, sha256: null, text: null, error: null, connections: 1, tcp: emptyTcpStats(),
      startedAt: this.clock.now(), doneAt: null,
    };
    const d: (typeof this.downloads)[number] = { id, path, get: null, view };
    this.downloads.push(d);
    this.withClient((stack) => (d.get = this.get(stack, path, view)));
    return id;
  }

  /**
   * Sends `bytes` to the guest's `port` over one TCP connection, then closes the client's side: a
   * receive-heavy client (received packets are the largest part of the log, paper Table 3).
   * `done` gets the connection once it closed, with why (`fin`: every byte acknowledged).
   */
  upload(port: number, bytes: Uint8Array, done: (conn: TcpConnection, reason: CloseReason) => void): void {
    this.withClient((stack) => {
      const now = this.clock.now();
      const conn: TcpConnection = stack.connect(GUEST_IP, port, now, { closed: (reason) => done(conn, reason) });
      conn.write(bytes, now);
      conn.close(now);
      this.ensureTimer();
    });
  }

  private get(stack: ClientStack, path: string, view: DownloadView): HttpGet {
    const get = new HttpGet(stack, GUEST_IP, 80, path, this.clock.now(), {
      progress: (received, total) => {
        view.received = received;
        view.total = total;
      },
      done: (r) => {
        view.doneAt = this.clock.now();
        view.status = r.status;
        if (r.body.length <= 4096) view.text = new TextDecoder().decode(r.body);
        void sha256Hex(r.body).then((h) => {
          view.sha256 = h;
          view.state = "done";
          this.changed();
        });
      },
      failed: (reason) => {
        view.state = "failed";
        view.error = reason;
        this.changed();
      },
    });
    view.tcp = get.conn.stats;
    this.ensureTimer();
    return get;
  }

  /** Runs `fn` with the client's stack: at once, or once a tab's client has its address. */
  private withClient(fn: (stack: ClientStack) => void): void {
    if (this.stack) return fn(this.stack);
    if (this.waiting) return void this.waiting.push(() => fn(this.stack!));
    this.waiting = [() => fn(this.stack!)];
    this.opts.address!().then(
      (n) => {
        this.plugClient(n);
        for (const w of this.waiting!.splice(0)) w();
        this.changed();
      },
      (e: unknown) => {
        for (const d of this.downloads) if (!d.get) Object.assign(d.view, { state: "failed", error: `the client has no address: ${String(e)}` });
        this.waiting = null;
        this.changed();
      },
    );
  }

  /** The client's stack on the switch's client port, at host number `n` of 10.0.2.0/24. */
  private plugClient(n: number): void {
    const stack = new ClientStack({ mac: clientMac(n), ip: clientIp(n), isn: () => this.nextIsn() }, (f) => this.link.fromClient(f, (g) => this.fromClient(g)));
    this.stack = stack;
    this.clientHost = n;
    this.sw.attach(CLIENT_PORT, (f) => this.link.toClient(f, (g) => stack.receive(g, this.clock.now())));
  }

  /** The client gives up download `id`: its TCP sends a reset, the download fails ("aborted"). */
  abort(id: number): void {
    const d = this.downloads[id - 1];
    if (d?.view.state === "running") d.get?.conn.abort(this.clock.now());
  }

  /** The client stops reading download `id`: its window closes and the guest's TCP waits (probing the zero window). */
  pause(id: number): void {
    this.downloads[id - 1]?.get?.conn.pause();
  }

  resume(id: number): void {
    this.downloads[id - 1]?.get?.conn.resume(this.clock.now());
  }

  view(): NetworkView {
    return {
      learned: [...this.learned],
      switch: { ...this.sw.stats },
      stack: this.stack ? { ...this.stack.stats } : { framesIn: 0, framesOut: 0, dropped: 0, arpRequests: 0, resets: 0 },
      downloads: this.downloads.map((d) => ({ ...d.view, tcp: { ...(d.get?.conn.stats ?? d.view.tcp) } })),
      link: { ...this.link.settings, stats: { ...this.link.stats } },
      clientIp: this.clientHost === null ? null : clientIp(this.clientHost),
    };
  }

  stop(): void {
    this.timer?.();
    this.timer = null;
  }

  private fromClient(frame: Uint8Array): void {
    this.syncPorts();
    this.sw.input(CLIENT_PORT, frame);
  }

  /**
   * One switch port per host that is up; a dead host's cable is pulled (its MACs forgotten), and
   * so is a host that is gone (New pair): the next VM has the same MAC and must not be looked
   * for behind a stale port.
   */
  private syncPorts(): void {
    const members = this.opts.members;
    if (members) {
      const others = members.others();
      for (const id of [...this.ports]) {
        if (id.startsWith(TRUNK) && !others.includes(id.slice(TRUNK.length))) {
          this.ports.delete(id);
          this.sw.detach(id);
        }
      }
      for (const tab of others) {
        if (this.ports.has(trunk(tab))) continue;
        this.ports.add(trunk(tab));
        this.sw.attach(trunk(tab), (f) => members.send(tab, f), { trunk: true });
      }
    }
    const hosts = this.hosts();
    for (const id of [...this.ports]) {
      if (!id.startsWith(TRUNK) && !hosts.some((h) => h.id === id)) {
        this.ports.delete(id);
        this.sw.detach(id);
      }
    }
    for (const h of hosts) {
      if (h.dead && this.ports.has(h.id)) {
        this.ports.delete(h.id);
        this.sw.detach(h.id);
      } else if (!h.dead && !this.ports.has(h.id)) {
        this.ports.add(h.id);
        this.sw.attach(h.id, (f) => h.handle.packet?.(f));
      }
    }
  }

  private ensureTimer(): void {
    this.timer ??= this.clock.every(TICK_MS, () => {
      this.syncPorts();
      this.stack?.tick(this.clock.now());
      if (this.downloads.some((d) => d.view.state === "running")) this.changed();
    });
  }

  private nextIsn(): number {
    this.isn = (Math.imul(this.isn, 1664525) + 1013904223) >>> 0;
    return this.isn;
  }
}

/**
 * A tab's client network: its own client address, found among those no open tab holds (a Web
 * Lock per address, let go when the tab closes), and a trunk to every other member's switch over
 * the cluster transport.
 */
export function tabNetworkOptions(t: ClusterTransport, others: () => readonly string[]): ClientNetworkOptions {
  return {
    address: () => pickClientHost(t),
    members: { others, send: (to, frame) => t.post({ t: "frame", from: t.self, to, frame }) },
  };
}

async function pickClientHost(t: ClusterTransport): Promise<number> {
  for (let n = CLIENT_HOST; n < 255; n++) {
    if (n === 15) continue; // the guest's
    if (await t.tryHold(`lockstep-client-${n}`)) return n;
  }
  throw new Error("every client address of 10.0.2.0/24 is taken by an open tab");
}

const TRUNK = "tab:";
const trunk = (tab: string) => `${TRUNK}${tab}`;

async function sha256Hex(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}
