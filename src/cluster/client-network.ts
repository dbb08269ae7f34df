// The outside world's network in the page (issue 13): a learning switch (src/net/switch.ts)
// with one port per host of this member and one for the client, and the client's own TCP/IP
// (src/net/client-stack.ts). Hosts put on it only what their Output Rule released; every host
// hears what the client sends, but only a live primary takes it (the protocol drops it
// elsewhere). When a backup goes live it announces the VM's MAC and the switch moves it: the
// `learned` list is the moment the network follows the failover.

import { ClientLink, type LinkSettings, type LinkStats } from "../net/client-link.ts";
import { ClientStack } from "../net/client-stack.ts";
import { HttpGet } from "../net/http-get.ts";
import type { StackStats } from "../net/client-stack.ts";
import { VirtualSwitch, type Learned, type SwitchStats } from "../net/switch.ts";
import type { TcpStats } from "../net/tcp-types.ts";
import type { Cancel, ClusterClock, HostHandle } from "./ports.ts";

export const GUEST_IP = "10.0.2.15";
export const CLIENT_IP = "10.0.2.2";
export const CLIENT_MAC = "02:00:00:00:00:02";
const CLIENT_PORT = "client";
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
}

interface NetHost {
  id: string;
  dead: boolean;
  handle: HostHandle;
}

export class ClientNetwork {
  private readonly sw: VirtualSwitch;
  private readonly stack: ClientStack;
  private readonly link: ClientLink;
  private readonly learned: (Learned & { at: number })[] = [];
  private readonly ports = new Set<string>();
  private readonly downloads: { id: number; path: string; get: HttpGet; view: DownloadView }[] = [];
  private timer: Cancel | null = null;
  private isn: number;

  constructor(
    private readonly clock: ClusterClock,
    private readonly hosts: () => readonly NetHost[],
    private readonly changed: () => void,
    seed = 0x1ced,
  ) {
    this.isn = seed >>> 0;
    this.sw = new VirtualSwitch((l) => {
      this.learned.push({ ...l, at: this.clock.now() });
      this.changed();
    });
    this.link = new ClientLink((ms, fn) => void this.clock.after(ms, fn), seed);
    this.stack = new ClientStack({ mac: CLIENT_MAC, ip: CLIENT_IP, isn: () => this.nextIsn() }, (f) => this.link.fromClient(f, (g) => this.fromClient(g)));
    this.sw.attach(CLIENT_PORT, (f) => this.link.toClient(f, (g) => this.stack.receive(g, this.clock.now())));
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
      id, path, state: "running", status: null, received: 0, total: null, sha256: null, text: null, error: null, connections: 1, tcp: undefined!,
      startedAt: this.clock.now(), doneAt: null,
    };
    const get = new HttpGet(this.stack, GUEST_IP, 80, path, this.clock.now(), {
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
    this.downloads.push({ id, path, get, view });
    this.ensureTimer();
    return id;
  }

  /** The client stops reading download `id`: its window closes and the guest's TCP waits (probing the zero window). */
  pause(id: number): void {
    this.downloads[id - 1]?.get.conn.pause();
  }

  resume(id: number): void {
    this.downloads[id - 1]?.get.conn.resume(this.clock.now());
  }

  view(): NetworkView {
    return {
      learned: [...this.learned],
      switch: { ...this.sw.stats },
      stack: { ...this.stack.stats },
      downloads: this.downloads.map((d) => ({ ...d.view, tcp: { ...d.get.conn.stats } })),
      link: { ...this.link.settings, stats: { ...this.link.stats } },
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
    const hosts = this.hosts();
    for (const id of [...this.ports]) {
      if (!hosts.some((h) => h.id === id)) {
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
      this.stack.tick(this.clock.now());
      if (this.downloads.some((d) => d.view.state === "running")) this.changed();
    });
  }

  private nextIsn(): number {
    this.isn = (Math.imul(this.isn, 1664525) + 1013904223) >>> 0;
    return this.isn;
  }
}

async function sha256Hex(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}
