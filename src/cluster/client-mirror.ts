import { ConsoleClient, type ClientMsg, type ToClientMsg } from "../ft/protocol/index.ts";
import type { ClusterClock, ClusterTransport } from "./ports.ts";
import type { ClientSync } from "./messages.ts";
import { MEMBER_TIMEOUT_MS } from "./membership.ts";

const RESEND_MS = 250;
/** A member asks the others for what it missed at most this often. */
const SYNC_EVERY_MS = 500;
const empty = new Uint8Array(0);
/** What a terminal sends by itself in answer to the guest: cursor position and device reports. */
const TERMINAL_REPORT = /^\x1b\[[\d;?>]*[Rcn]$/;

/**
 * The outside world (the client panel), mirrored in every member. Each member runs its own
 * ConsoleClient. Output a live primary releases reaches every member's client; typed input is
 * sent once and mirrored into every member's client with the same sequence numbers, so whichever
 * member survives keeps retransmitting unacknowledged input to its own hosts, and exactly-once
 * holds across the loss of any member. A member alone (the one page) is the degenerate case.
 */
export class ClientMirror {
  client = new ConsoleClient(RESEND_MS);
  /** Count of inputs typed in this member (the figure animates them). */
  typed = 0;
  private readonly acks = new Map<string, { offset: number; at: number }>();
  /** Every input seen (mirror of the client's unacknowledged ones), for members that sync. */
  private readonly inputs = new Map<number, Uint8Array>();
  private lastSyncReq = -Infinity;
  /** The member the user last typed in (the one client whose terminal answers the guest's queries). */
  private typist: string | null = null;
  private display: (bytes: Uint8Array) => void = () => {};

  constructor(
    private readonly clock: ClusterClock,
    private readonly transport: ClusterTransport,
    /** The members, oldest first. */
    private readonly members: () => readonly { tab: string }[],
    /** Every host of this member hears the client; only a live primary acts on it. */
    private readonly toHosts: (m: ClientMsg) => void,
    private readonly changed: () => void,
  ) {
    transport.on("client-input", (m) => {
      this.typist = m.tab;
      this.onRemoteInput(m.seq, m.bytes);
    });
    transport.on("client-ack", (m) => this.noteAck(m.tab, m.offset));
    transport.on("to-client", (m) => this.onToClient(m.msg));
    transport.on("sync-req", (m) => this.onSyncReq(m.tab, m.from));
    transport.on("sync", (m) => m.to === transport.self && this.onSync(m));
  }

  onConsole(display: (bytes: Uint8Array) => void): void {
    this.display = display;
  }

  /** Bytes for this member's terminal only (a banner), not part of the console stream. */
  show(bytes: Uint8Array): void {
    this.display(bytes);
  }

  /** A new VM: a new console stream. */
  reset(): void {
    this.client = new ConsoleClient(RESEND_MS);
    this.inputs.clear();
    this.acks.clear();
    this.changed();
  }

  type(text: string): void {
    const self = this.transport.self;
    // Every member's terminal answers the guest's queries (cursor position reports to the
    // shell's ESC[6n): only the typist's may, or each member would inject its own copy.
    if (TERMINAL_REPORT.test(text)) {
      if (!this.isTypist()) return;
    } else {
      this.typist = self;
    }
    this.typed++;
    const msg = this.client.type(new TextEncoder().encode(text));
    if (msg.t !== "client-input") return;
    this.inputs.set(msg.seq, msg.bytes);
    this.transport.post({ t: "client-input", tab: self, seq: msg.seq, bytes: msg.bytes });
    this.toHosts(msg);
    this.changed();
  }

  /** Output a live primary of this member released: the outside world sees it, in every member. */
  released(msg: ToClientMsg): void {
    this.transport.post({ t: "to-client", msg });
    this.onToClient(msg);
  }

  /** Periodic: acknowledge what the client holds, retransmit unacknowledged input. */
  tick(): void {
    for (const m of this.client.tick(this.clock.now())) {
      if (m.t === "client-ack") {
        this.noteAck(this.transport.self, m.consoleOffset);
        this.transport.post({ t: "client-ack", tab: this.transport.self, offset: m.consoleOffset });
        this.toHosts({ t: "client-ack", consoleOffset: this.minAck() });
      } else {
        this.toHosts(m);
      }
    }
  }

  /** This member's beat: what its client holds counts as its acknowledgement. */
  beat(): void {
    this.noteAck(this.transport.self, this.client.length);
  }

  /** A member left: its client no longer holds hosts back from forgetting console bytes. */
  forget(tab: string): void {
    this.acks.delete(tab);
  }

  private onToClient(msg: ToClientMsg): void {
    if (msg.t === "input-ack") {
      // Input typed in a member that died before its broadcast reached us: the host consumed
      // it, so catch our sequence numbers up (the bytes are not needed: they are acknowledged).
      while (this.client.sentInputs < msg.nextSeq) this.client.type(this.inputs.get(this.client.sentInputs) ?? empty);
    } else if (msg.offset > this.client.length) {
      this.requestSync();
    }
    const fresh = this.client.onMessage(msg);
    if (fresh) this.display(fresh);
    if (msg.t === "input-ack") for (const s of this.inputs.keys()) if (s < this.client.inputAcked) this.inputs.delete(s);
    // A new primary's first input-ack makes unacknowledged input due at once (ConsoleClient).
    if (msg.t === "input-ack") this.tick();
    this.changed();
  }

  private onRemoteInput(seq: number, bytes: Uint8Array): void {
    if (seq < this.client.sentInputs) return;
    if (seq > this.client.sentInputs) return this.requestSync();
    const msg = this.client.type(bytes);
    this.inputs.set(seq, bytes);
    this.toHosts(msg);
  }

  /** The typist, or if it is gone (or nobody typed yet), the oldest member. */
  private isTypist(): boolean {
    const members = this.members();
    if (this.typist && members.some((m) => m.tab === this.typist)) return this.typist === this.transport.self;
    return members[0]?.tab === this.transport.self;
  }

  private noteAck(tab: string, offset: number): void {
    this.acks.set(tab, { offset, at: this.clock.now() });
  }

  /** Hosts may forget console bytes only once every member's client holds them. */
  private minAck(): number {
    const now = this.clock.now();
    let min = this.client.length;
    for (const [tab, a] of this.acks) {
      if (now - a.at > MEMBER_TIMEOUT_MS) this.acks.delete(tab);
      else if (a.offset < min) min = a.offset;
    }
    return min;
  }

  private requestSync(): void {
    const now = this.clock.now();
    if (now - this.lastSyncReq < SYNC_EVERY_MS) return;
    this.lastSyncReq = now;
    this.transport.post({ t: "sync-req", tab: this.transport.self, from: this.client.length });
  }

  private onSyncReq(tab: string, from: number): void {
    if (this.client.length <= from && this.client.sentInputs === 0) return;
    const stream = this.client.stream();
    const offset = Math.min(from, stream.length);
    this.transport.post({
      t: "sync",
      to: tab,
      offset,
      bytes: stream.slice(offset),
      sentInputs: this.client.sentInputs,
      inputAcked: this.client.inputAcked,
      unacked: [...this.inputs].filter(([s]) => s >= this.client.inputAcked),
    });
  }

  private onSync(m: ClientSync): void {
    if (m.bytes.length > 0) this.onToClient({ t: "console", epoch: 0, from: "sync", offset: m.offset, bytes: m.bytes });
    const unacked = new Map(m.unacked);
    while (this.client.sentInputs < m.sentInputs) {
      const seq = this.client.sentInputs;
      const bytes = unacked.get(seq) ?? empty;
      const msg = this.client.type(bytes);
      if (unacked.has(seq)) {
        this.inputs.set(seq, bytes);
        this.toHosts(msg);
      }
    }
    if (m.inputAcked > this.client.inputAcked) this.onToClient({ t: "input-ack", epoch: 0, from: "sync", nextSeq: m.inputAcked });
  }
}
