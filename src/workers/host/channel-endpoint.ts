import { chunk, Reassembler } from "../../channel/chunker.ts";
import type { LoggingChannel } from "../../channel/logging-channel.ts";
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

  constructor(
    readonly peer: string,
    private readonly channel: LoggingChannel,
    onMessage: (msg: ChannelMsg) => void,
    onError: (e: Error) => void,
    onProgress?: (received: number, total: number) => void,
  ) {
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
    for (const c of chunk(encodeChannelMsg(msg))) {
      this.bytesOut += c.length;
      this.channel.send(c);
    }
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
