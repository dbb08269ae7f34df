// The client's network stack: one Ethernet interface with ARP, IPv4 and TCP connections. It sits
// on a port of the virtual switch (switch.ts) and talks to the guest as any machine on a LAN
// would. Pure: frames go out through `send`, time is passed in, the owner calls tick(now).
// Malformed frames are dropped and counted, never thrown on.

import {
  BROADCAST,
  buildArp,
  buildEth,
  buildIp4,
  ETH_ARP,
  ETH_IPV4,
  IP_TCP,
  parseArp,
  parseEth,
  parseIp4,
  type Ip4,
  type Mac,
} from "./packets.ts";
import { TcpConnection, type TcpEvents, type TcpOptions } from "./tcp.ts";
import { buildSegment, parseSegment, RST, ACK, type Segment } from "./tcp-segment.ts";

export interface ClientStackOptions {
  mac: Mac;
  ip: Ip4;
  tcp?: Partial<TcpOptions>;
  /** Initial sequence numbers (seeded by the owner: tests and replays stay reproducible). */
  isn: () => number;
  arpRetryMs?: number;
  firstPort?: number;
}

export interface StackStats {
  framesIn: number;
  framesOut: number;
  /** Frames not for us or unreadable (bad checksum, truncated, unknown type). */
  dropped: number;
  arpRequests: number;
  resets: number;
}

interface Route {
  conn: TcpConnection;
  remoteIp: Ip4;
  remotePort: number;
  localPort: number;
}

export class ClientStack {
  readonly stats: StackStats = { framesIn: 0, framesOut: 0, dropped: 0, arpRequests: 0, resets: 0 };
  private readonly arp = new Map<Ip4, Mac>();
  /** IPv4 packets waiting for an ARP answer, by next hop, and when we last asked. */
  private readonly waiting = new Map<Ip4, { packets: Uint8Array[]; askedAt: number }>();
  private readonly routes = new Map<string, Route>();
  private nextPort: number;
  private ipId = 1;
  /** Time of the call being served (segments a connection emits are sent at it). */
  private now = 0;

  constructor(
    private readonly o: ClientStackOptions,
    private readonly send: (frame: Uint8Array) => void,
  ) {
    this.nextPort = o.firstPort ?? 49152;
  }

  /** The time of the last call into the stack (for callbacks that run inside one). */
  get lastTime(): number {
    return this.now;
  }

  get mac(): Mac {
    return this.o.mac;
  }

  /** The MAC this client has for `ip` (after ARP), if any. */
  arpEntry(ip: Ip4): Mac | undefined {
    return this.arp.get(ip);
  }

  /** Opens a TCP connection (active open) to ip:port. */
  connect(ip: Ip4, port: number, now: number, events: TcpEvents = {}): TcpConnection {
    const localPort = this.nextPort++;
    if (this.nextPort > 65535) this.nextPort = 49152;
    const key = `${ip}:${port}:${localPort}`;
    const out = (s: Omit<Segment, "srcPort" | "dstPort">) =>
      this.sendIp(ip, IP_TCP, buildSegment(this.o.ip, ip, { ...s, srcPort: localPort, dstPort: port }), this.now);
    const conn = new TcpConnection(this.o.isn() >>> 0, (s) => out(s), this.o.tcp, {
      ...events,
      closed: (r) => {
        this.routes.delete(key);
        events.closed?.(r);
      },
    });
    this.routes.set(key, { conn, remoteIp: ip, remotePort: port, localPort });
    this.now = now;
    conn.connect(now);
    return conn;
  }

  /** A frame from the switch. */
  receive(frame: Uint8Array, now: number): void {
    this.now = now;
    this.stats.framesIn++;
    const eth = parseEth(frame);
    if (!eth || (eth.dst !== this.o.mac && eth.dst !== BROADCAST)) return this.drop();
    if (eth.type === ETH_ARP) return this.onArp(eth.payload);
    if (eth.type !== ETH_IPV4) return this.drop();
    const ip = parseIp4(eth.payload);
    if (!ip || ip.dst !== this.o.ip || ip.proto !== IP_TCP) return this.drop();
    const seg = parseSegment(ip.src, ip.dst, ip.payload);
    if (!seg) return this.drop();
    const route = this.routes.get(`${ip.src}:${seg.srcPort}:${seg.dstPort}`);
    if (route) return route.conn.onSegment(seg, now);
    // No such connection (e.g. one we gave up on): tell the peer, unless it is a reset itself.
    if (!(seg.flags & RST)) {
      this.stats.resets++;
      const rst = seg.flags & ACK ? { seq: seg.ack, ack: 0, flags: RST } : { seq: 0, ack: (seg.seq + seg.payload.length) >>> 0, flags: RST | ACK };
      this.sendIp(ip.src, IP_TCP, buildSegment(this.o.ip, ip.src, { ...rst, srcPort: seg.dstPort, dstPort: seg.srcPort, window: 0, payload: new Uint8Array(0) }), now);
    }
  }

  /** Timers: TCP retransmissions, ARP retries. */
  tick(now: number): void {
    this.now = now;
    for (const r of [...this.routes.values()]) r.conn.tick(now);
    for (const [ip, w] of this.waiting) {
      if (now - w.askedAt >= (this.o.arpRetryMs ?? 1000)) {
        w.askedAt = now;
        this.askArp(ip);
      }
    }
  }

  /** The earliest time tick() has something to do (ms), or null. */
  nextTimer(): number | null {
    let t: number | null = null;
    for (const r of this.routes.values()) {
      const n = r.conn.nextTimer;
      if (n !== null && (t === null || n < t)) t = n;
    }
    for (const w of this.waiting.values()) {
      const n = w.askedAt + (this.o.arpRetryMs ?? 1000);
      if (t === null || n < t) t = n;
    }
    return t;
  }

  private drop(): void {
    this.stats.dropped++;
  }

  private onArp(p: Uint8Array): void {
    const a = parseArp(p);
    if (!a) return this.drop();
    // Learn (or re-learn) the sender: after a failover the new primary has the same MAC.
    if (a.targetIp === this.o.ip || this.arp.has(a.senderIp)) this.arp.set(a.senderIp, a.senderMac);
    if (a.op === 1 && a.targetIp === this.o.ip) {
      this.arp.set(a.senderIp, a.senderMac);
      this.emit(a.senderMac, ETH_ARP, buildArp({ op: 2, senderMac: this.o.mac, senderIp: this.o.ip, targetMac: a.senderMac, targetIp: a.senderIp }));
    }
    const w = this.waiting.get(a.senderIp);
    if (w && this.arp.has(a.senderIp)) {
      this.waiting.delete(a.senderIp);
      for (const pkt of w.packets) this.emit(a.senderMac, ETH_IPV4, pkt);
    }
  }

  private sendIp(dst: Ip4, proto: number, payload: Uint8Array, now: number): void {
    const pkt = buildIp4(this.o.ip, dst, proto, payload, this.ipId++ & 0xffff);
    const mac = this.arp.get(dst);
    if (mac) return this.emit(mac, ETH_IPV4, pkt);
    const w = this.waiting.get(dst);
    if (w) {
      // Keep the newest few: TCP retransmits anything that is lost here.
      w.packets.push(pkt);
      if (w.packets.length > 16) w.packets.shift();
      return;
    }
    this.waiting.set(dst, { packets: [pkt], askedAt: now });
    this.askArp(dst);
  }

  private askArp(ip: Ip4): void {
    this.stats.arpRequests++;
    this.emit(BROADCAST, ETH_ARP, buildArp({ op: 1, senderMac: this.o.mac, senderIp: this.o.ip, targetMac: "00:00:00:00:00:00", targetIp: ip }));
  }

  private emit(dst: Mac, type: number, payload: Uint8Array): void {
    this.stats.framesOut++;
    this.send(buildEth(dst, this.o.mac, type, payload));
  }
}
