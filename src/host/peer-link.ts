import type { LoggingChannel } from "../channel/logging-channel.ts";
import type { ChannelMsg } from "../ft/protocol/index.ts";
import { ChannelEndpoint } from "./channel-endpoint.ts";
import type { HostContext } from "./host-context.ts";

/**
 * This host's logging channel to its one peer, and the liveness it shows outside the protocol:
 * the rendezvous of a pair booted together, and a standby's heartbeats while a clone comes.
 */
export class PeerLink {
  private endpoint: ChannelEndpoint | null = null;
  /** Anything arrived from the peer (the rendezvous waits for it). */
  private peerSeen = false;
  private lastProgressTenth = -1;
  private lastStandbyBeat = -Infinity;
  /** The epoch a standby's heartbeats carry: the primary ignores heartbeats of another epoch. */
  private standbyEpoch = 0;

  constructor(
    private readonly ctx: HostContext,
    /** Every message received, before the agent sees it (the status's counters). */
    private readonly onReceived: (msg: ChannelMsg) => void,
  ) {}

  /** Bytes of the logging channels this host had before the current one (each counts from 0). */
  private earlierOut = 0;
  private earlierIn = 0;

  /** Bytes this host has put on any logging channel since it started: never goes down. */
  get bytesOut(): number {
    return this.earlierOut + (this.endpoint?.bytesOut ?? 0);
  }

  /** Bytes this host has received on any logging channel since it started: never goes down. */
  get bytesIn(): number {
    return this.earlierIn + (this.endpoint?.bytesIn ?? 0);
  }

  get connected(): boolean {
    return this.endpoint !== null;
  }

  /** The channel was cut (the teaching control): it stays open and carries nothing. */
  get isCut(): boolean {
    return this.endpoint?.isCut ?? false;
  }

  attach(peer: string, channel: LoggingChannel): void {
    // A new channel (FT VMotion to a new backup) starts its counters at 0: keep the totals going.
    this.earlierOut += this.endpoint?.bytesOut ?? 0;
    this.earlierIn += this.endpoint?.bytesIn ?? 0;
    this.endpoint?.close();
    // The primary ignores heartbeats of another epoch, and failovers since this standby started
    // have moved the epoch on: the primary offering this channel is live in the current one.
    if (this.ctx.agent?.role === "standby") void this.refreshStandbyEpoch();
    this.endpoint = new ChannelEndpoint(
      peer,
      channel,
      (msg) => {
        const t0 = this.ctx.scheduler.now();
        this.peerSeen = true;
        this.onReceived(msg);
        if (this.ctx.agent) this.ctx.feed({ type: "message", from: peer, msg });
        this.ctx.ranSince(t0, "channel-message");
      },
      (e) => this.ctx.event({ kind: "channel-error", message: e.message }),
      (got, total) => {
        // A line per tenth is plenty for a person watching; the chunks come every 64 KiB.
        const tenth = Math.floor((10 * got) / total);
        if (tenth !== this.lastProgressTenth) this.ctx.event({ kind: "clone-progress", percent: tenth * 10 });
        this.lastProgressTenth = tenth === 10 ? -1 : tenth;
      },
      this.ctx.ports.bulk,
      () => this.ctx.scheduler.wallNow(),
    );
  }

  /** Sends `msg` if `to` is the peer of the current channel. */
  send(to: string, msg: ChannelMsg): boolean {
    if (this.endpoint?.peer !== to) return false;
    this.endpoint.send(msg);
    return true;
  }

  /**
   * A pair booted together starts the protocol only when both engines exist: building a machine
   * takes seconds, and a failure detector armed before the peer could answer would declare it
   * dead. (A clone needs no such step: the primary is already running when the backup appears.)
   */
  async rendezvous(epoch: number): Promise<void> {
    const s = this.ctx.scheduler;
    const deadline = s.now() + this.ctx.timing.rendezvousMs;
    while (!this.peerSeen && s.now() < deadline && !this.ctx.stopped) {
      this.endpoint?.send({ t: "heartbeat", epoch, stallMs: 0 });
      await s.sleep(this.ctx.timing.rendezvousBeatMs);
    }
    // One more, so a peer that arrived just now sees us before its own deadline.
    this.endpoint?.send({ t: "heartbeat", epoch, stallMs: 0 });
  }

  async refreshStandbyEpoch(): Promise<void> {
    const epoch = (await this.ctx.ports.storage.lock.readLock().catch(() => undefined))?.epoch;
    if (epoch !== undefined) this.standbyEpoch = epoch;
  }

  /**
   * A standby waiting for (or receiving) a snapshot is alive: it says so on a timer, or the
   * primary's failure detector would expire during a transfer that stalls longer than its
   * timeout (cross-tab data channels stall for seconds after the first megabyte: SCTP
   * retransmission). Beats go out only once a logging channel exists, i.e. a clone is coming.
   */
  standbyHeartbeat(): void {
    if (this.ctx.agent?.role !== "standby" || !this.endpoint) return;
    const now = this.ctx.scheduler.now();
    if (now - this.lastStandbyBeat < this.ctx.ports.ft.heartbeatIntervalMs) return;
    this.lastStandbyBeat = now;
    this.endpoint.send({ t: "heartbeat", epoch: this.standbyEpoch, stallMs: 0 });
  }

  /** The "cut the logging channel" control: both ends stay up, nothing gets through. */
  cut(): void {
    this.endpoint?.cut();
  }

  close(): void {
    this.endpoint?.close();
  }
}
