/**
 * The logging channel as a host sees it: a pipe of binary messages to its peer. WebRTC in the
 * product; a MessagePort in Node tests and as a same-page fallback; the simulator's is lossy.
 */
export interface LoggingChannel {
  /**
   * Ordered and reliable while open (a reliable data channel, a MessagePort): what was handed
   * over arrives, once, in order, unless the channel closes. The protocol still resends what is
   * not acknowledged; over a lossless channel a copy already on its way makes that redundant.
   */
  readonly lossless: boolean;
  send(bytes: Uint8Array): void;
  /** Bytes queued but not yet handed to the network: what flow control watches. */
  readonly bufferedAmount: number;
  readonly open: boolean;
  onmessage: ((bytes: Uint8Array) => void) | null;
  /** Fires when the transport itself reports closure (a tab close may never fire it: heartbeats decide). */
  onclose: (() => void) | null;
  /**
   * Flow window for multi-chunk messages (an FT VMotion snapshot), in bytes: at most this much
   * sent and not yet acknowledged by the receiving endpoint. Absent: no window (a MessagePort
   * cannot lose anything; the simulator's lossy channel must not wait for acks it may lose).
   */
  readonly bulkWindow?: number;
  /** Fires when bufferedAmount drops below the low-water mark again. */
  ondrain: (() => void) | null;
  close(): void;
}

/**
 * Bounds on what the transport itself buffers (RTCDataChannel.bufferedAmount). Deep buffers
 * stall (4 MiB gave long stalls, measured); a shallow one starves a bulk transfer such as an
 * FT VMotion snapshot, since each refill waits for a bufferedamountlow event.
 */
export const CHANNEL_HIGH_WATER = 1024 * 1024;
export const CHANNEL_LOW_WATER = 256 * 1024;

/**
 * The snapshot's flow window over a data channel. Between two renderer processes Chromium's
 * SCTP sent a 13 MiB snapshot in bursts as large as the send buffer allowed and stalled for
 * 0.5–8 s at a time, as retransmission timeouts after lost packets do (inferred: the kernel
 * counted no UDP drops then): 8.4 s for 13 MiB between two idle pages, 13–26 s in tab mode. Bounding what is in flight by
 * acknowledgements from the receiving endpoint: 1.3 s (64 KiB), 0.74 s (128 KiB), 0.68 s
 * (256 KiB), measured between two pages in separate renderer processes, each end in a worker.
 */
export const CHANNEL_BULK_WINDOW = 128 * 1024;

export class DataChannelTransport implements LoggingChannel {
  readonly lossless = true;
  readonly bulkWindow = CHANNEL_BULK_WINDOW;
  onmessage: ((bytes: Uint8Array) => void) | null = null;
  onclose: (() => void) | null = null;
  ondrain: (() => void) | null = null;
  /** Set by the "cut the logging channel" control: the channel stays up but carries nothing. */
  cut = false;

  constructor(private readonly dc: RTCDataChannel) {
    dc.binaryType = "arraybuffer";
    dc.bufferedAmountLowThreshold = CHANNEL_LOW_WATER;
    dc.onmessage = (e: MessageEvent<ArrayBuffer>) => {
      if (!this.cut) this.onmessage?.(new Uint8Array(e.data));
    };
    dc.onclose = () => this.onclose?.();
    dc.onbufferedamountlow = () => this.ondrain?.();
  }

  get open(): boolean {
    return this.dc.readyState === "open";
  }

  get bufferedAmount(): number {
    return this.dc.bufferedAmount;
  }

  send(bytes: Uint8Array): void {
    if (this.cut || this.dc.readyState !== "open") return;
    this.dc.send(bytes as Uint8Array<ArrayBuffer>);
  }

  close(): void {
    this.dc.close();
  }
}

export class MessagePortTransport implements LoggingChannel {
  readonly lossless = true;
  onmessage: ((bytes: Uint8Array) => void) | null = null;
  onclose: (() => void) | null = null;
  ondrain: (() => void) | null = null;
  cut = false;
  readonly bufferedAmount = 0;
  private closed = false;

  constructor(private readonly port: MessagePort) {
    port.onmessage = (e: MessageEvent<Uint8Array>) => {
      if (!this.cut) this.onmessage?.(e.data);
    };
    port.start?.();
  }

  get open(): boolean {
    return !this.closed;
  }

  send(bytes: Uint8Array): void {
    if (this.cut || this.closed) return;
    const copy = bytes.slice();
    this.port.postMessage(copy, [copy.buffer]);
  }

  close(): void {
    this.closed = true;
    this.port.close();
    this.onclose?.();
  }
}
