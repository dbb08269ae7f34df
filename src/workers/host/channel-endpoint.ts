import { chunk, Reassembler } from "../../channel/chunker.ts";
import { CHANNEL_HIGH_WATER, type LoggingChannel } from "../../channel/logging-channel.ts";
import { decodeChannelMsg, encodeChannelMsg } from "../../channel/wire.ts";
import type { ChannelMsg } from "../../ft/protocol/index.ts";

/**
 * One host's end of the logging channel: protocol messages in and out as bytes, large ones
 * (FT VMotion snapshots) chunked. Counts bytes so the UI can show log bandwidth.
 */
export class ChannelEndpoint {
  bytesOut = 0;
  bytesIn = 0;
  private readonly reassembler = new Reassembler();
  /** Chunks waiting for the transport's buffer to drain below the high-water mark. */
  private queue: Uint8Array[] = [];
  /** Clone id whose snapshot is still queued: a protocol resend of it would only add megabytes. */
  private cloneQueued: number | null = null;
  private cloneTail: Uint8Array | null = null;

  constructor(
    readonly peer: string,
    private readonly channel: LoggingChannel,
    onMessage: (msg: ChannelMsg) => void,
    onError: (e: Error) => void,
    onProgress?: (received: number, total: number) => void,
  ) {
    channel.ondrain = () => this.pump();
    channel.onmessage = (bytes) => {
      this.bytesIn += bytes.length;
      try {
        const whole = this.reassembler.push(bytes, onProgress);
        if (whole) onMessage(decodeChannelMsg(whole));
      } catch (e) {
        onError(e as Error);
      }
    };
  }

  send(msg: ChannelMsg): void {
    if (msg.t === "clone-start") {
      if (this.cloneQueued === msg.clone.cloneId) return;
      this.cloneQueued = msg.clone.cloneId;
    }
    for (const c of chunk(encodeChannelMsg(msg))) this.queue.push(c);
    if (msg.t === "clone-start") this.cloneTail = this.queue[this.queue.length - 1]!;
    this.pump();
  }

  /** Keeps the transport's own buffer small: a deep one stalls (measured: 4 MiB gave long stalls). */
  private pump(): void {
    while (this.queue.length > 0 && this.channel.bufferedAmount < CHANNEL_HIGH_WATER) {
      const c = this.queue.shift()!;
      this.bytesOut += c.length;
      this.channel.send(c);
      if (c === this.cloneTail) {
        this.cloneTail = null;
        this.cloneQueued = null;
      }
    }
  }

  /** Bytes queued here or in the transport, not yet on the wire. */
  get backlogBytes(): number {
    return this.queue.reduce((a, c) => a + c.length, 0) + this.channel.bufferedAmount;
  }

  get bufferedAmount(): number {
    return this.channel.bufferedAmount;
  }

  /** The "cut the logging channel" control: both ends stay up, nothing gets through. */
  cut(): void {
    (this.channel as { cut?: boolean }).cut = true;
  }

  close(): void {
    this.channel.onmessage = null;
    this.channel.close();
  }
}
