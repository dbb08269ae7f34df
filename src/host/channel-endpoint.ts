import { ackChunk, chunk, isPartChunk, readAck, readStoredRef, Reassembler, storedRef, wholeChunk } from "../channel/chunker.ts";
import { CHANNEL_HIGH_WATER, type LoggingChannel } from "../channel/logging-channel.ts";
import { decodeChannelMsg, encodeChannelMsg } from "../channel/wire.ts";
import type { ChannelMsg } from "../ft/protocol/index.ts";

/** Where a bulky message's bytes can wait for the peer (tabs of one origin share IndexedDB). */
export interface BulkStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  take(key: string): Promise<Uint8Array>;
}

/** Messages at least this big go through the bulk store when there is one: only snapshots are. */
const BULK_MIN_BYTES = 1024 * 1024;

/** A queue slot whose chunks are not ready yet (the payload is still being stored). */
interface Pending {
  chunks: Uint8Array[] | null;
}

/**
 * One host's end of the logging channel: protocol messages in and out as bytes, large ones
 * (FT VMotion snapshots) chunked, or moved through shared storage with a reference sent in
 * their place. Either way both ends see one ordered stream: nothing sent after a stored
 * message is sent, or delivered, before it. Counts bytes so the UI can show log bandwidth.
 */
export class ChannelEndpoint {
  bytesOut = 0;
  bytesIn = 0;
  private readonly reassembler = new Reassembler();
  /** Chunks waiting for the transport's buffer to drain below the high-water mark. */
  private queue: (Uint8Array | Pending)[] = [];
  /** Received chunks held behind a stored message that is still being read. */
  private inbound: Pending[] = [];
  /**
   * The clone whose snapshot this endpoint carries, and the last queue slot of its copy while
   * that copy still waits here. The protocol resends a snapshot until it is acknowledged
   * (transports may lose messages). A resend is dropped only where it cannot help: while a copy
   * still waits in this queue (it goes out first, in order), and over a lossless channel once a
   * copy went out (it arrives; a resend would repeat megabytes the peer is already getting or
   * restoring). Over a lossy channel a resend after the copy left is the only way to replace a
   * lost one (found by the simulator: seed 11 and others stalled for good with a standby that
   * never got its snapshot and kept the primary's failure detector content with heartbeats).
   */
  private clone: { id: number; waiting: Uint8Array | Pending | null } | null = null;
  private stored = 0;
  private closed = false;
  /**
   * The flow window (channel.bulkWindow): bytes of multi-chunk messages sent, and acknowledged by
   * the peer; on the receiving side, received and acknowledged. Only those bytes count, so log
   * entries and heartbeats never wait for an ack; they wait only behind a snapshot, in order.
   */
  private partSent = 0;
  private partAcked = 0;
  private partReceived = 0;
  private partAckSent = 0;

  constructor(
    readonly peer: string,
    private readonly channel: LoggingChannel,
    private readonly onMessage: (msg: ChannelMsg) => void,
    private readonly onError: (e: Error) => void,
    private readonly onProgress?: (received: number, total: number) => void,
    private readonly bulk?: BulkStore,
    /** Wall-clock ms, for the keys of stored messages (injected: the simulator has its own time). */
    private readonly wallNow: () => number = () => Date.now(),
  ) {
    channel.ondrain = () => this.pump();
    channel.onmessage = (bytes) => {
      this.bytesIn += bytes.length;
      const acked = readAck(bytes);
      if (acked !== null) {
        this.partAcked = Math.max(this.partAcked, acked);
        return this.pump();
      }
      if (isPartChunk(bytes)) this.countReceived(bytes.length);
      const ref = readStoredRef(bytes);
      if (ref) return this.receiveStored(ref.key, ref.length);
      if (this.inbound.length > 0) this.inbound.push({ chunks: [bytes] });
      else this.deliver(bytes);
    };
  }

  send(msg: ChannelMsg): void {
    if (msg.t === "clone-start") {
      const c = this.clone;
      if (c?.id === msg.clone.cloneId && (c.waiting !== null || this.channel.lossless)) return;
    }
    this.enqueue(encodeChannelMsg(msg));
    if (msg.t === "clone-start") this.clone = { id: msg.clone.cloneId, waiting: this.queue[this.queue.length - 1]! };
    this.pump();
  }

  private enqueue(bytes: Uint8Array): void {
    if (this.bulk && bytes.length >= BULK_MIN_BYTES) {
      const slot: Pending = { chunks: null };
      const key = `${this.peer}/${this.wallNow().toString(36)}-${this.stored++}`;
      this.queue.push(slot);
      this.bulk.put(key, bytes).then(
        () => this.fill(slot, [storedRef(key, bytes.length)]),
        // Storage refused (full, unavailable): the channel can still carry it, only slower.
        () => this.fill(slot, [...chunk(bytes)]),
      );
      return;
    }
    for (const c of chunk(bytes)) this.queue.push(c);
  }

  /**
   * Acks a quarter window at a time. The sender waits only with a whole window unacknowledged;
   * once that has arrived here, less than a quarter is unacknowledged, so it may send again.
   */
  private countReceived(n: number): void {
    const w = this.channel.bulkWindow;
    this.partReceived += n;
    if (w === undefined || this.partReceived - this.partAckSent < w / 4) return;
    this.partAckSent = this.partReceived;
    const ack = ackChunk(this.partReceived);
    this.bytesOut += ack.length;
    this.channel.send(ack);
  }

  private fill(slot: Pending, chunks: Uint8Array[]): void {
    slot.chunks = chunks;
    this.pump();
  }

  /** Keeps the transport's own buffer small: a deep one stalls (measured: 4 MiB gave long stalls). */
  private pump(): void {
    while (this.queue.length > 0 && this.channel.bufferedAmount < CHANNEL_HIGH_WATER) {
      const head = this.queue[0]!;
      if (!(head instanceof Uint8Array)) {
        if (!head.chunks) return; // still being stored: everything behind it waits
        this.queue.splice(0, 1, ...head.chunks);
        if (this.clone?.waiting === head) this.clone.waiting = head.chunks[head.chunks.length - 1] ?? null;
        continue;
      }
      const w = this.channel.bulkWindow;
      const part = isPartChunk(head);
      // Checked before the chunk, so a window smaller than a chunk still moves (overshoot: one chunk).
      if (part && w !== undefined && this.partSent - this.partAcked >= w) return;
      if (part) this.partSent += head.length;
      this.queue.shift();
      if (this.clone?.waiting === head) this.clone.waiting = null;
      this.bytesOut += head.length;
      this.channel.send(head);
    }
  }

  private receiveStored(key: string, length: number): void {
    const slot: Pending = { chunks: null };
    this.inbound.push(slot);
    this.onProgress?.(0, length);
    this.bulk!.take(key).then(
      (bytes) => {
        this.onProgress?.(bytes.length, bytes.length);
        slot.chunks = [wholeChunk(bytes)];
        this.drainInbound();
      },
      (e: unknown) => {
        this.onError(e instanceof Error ? e : new Error(String(e)));
        slot.chunks = [];
        this.drainInbound();
        // Lost payload. Over a lossy channel the protocol's resend replaces it. A lossless one
        // promised it and the sender will not resend: close the channel, so the silence is seen
        // by the failure detectors and the cluster service sets up a new channel and clone.
        if (this.channel.lossless) this.close();
      },
    );
  }

  private drainInbound(): void {
    while (this.inbound[0]?.chunks) for (const c of this.inbound.shift()!.chunks!) this.deliver(c);
  }

  private deliver(bytes: Uint8Array): void {
    if (this.closed) return;
    try {
      const whole = this.reassembler.push(bytes, this.onProgress);
      if (whole) this.onMessage(decodeChannelMsg(whole));
    } catch (e) {
      this.onError(e as Error);
    }
  }

  /** Bytes queued here or in the transport, not yet on the wire. */
  get backlogBytes(): number {
    let n = this.channel.bufferedAmount;
    for (const c of this.queue) n += c instanceof Uint8Array ? c.length : (c.chunks?.reduce((a, x) => a + x.length, 0) ?? 0);
    return n;
  }

  get bufferedAmount(): number {
    return this.channel.bufferedAmount;
  }

  get isCut(): boolean {
    return (this.channel as { cut?: boolean }).cut === true;
  }

  /** The "cut the logging channel" control: both ends stay up, nothing gets through. */
  cut(): void {
    (this.channel as { cut?: boolean }).cut = true;
  }

  close(): void {
    this.closed = true;
    this.channel.onmessage = null;
    this.channel.close();
  }
}
