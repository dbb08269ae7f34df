// A logging channel with a slow wire, for flood checks in Node (tests/unit/host/net-flood.test.ts):
// two in-process ends, each direction with a bandwidth and a one-way delay that can be changed
// while the pair runs. A backup whose link drains the log slower than the primary produces it is
// the situation the paper's flow control (3.2) is for; a late ack path is one whose Output Rule
// holds outputs longer. Lossless and in order, as a reliable data channel.
import type { LoggingChannel } from "../../src/channel/logging-channel.ts";
import { realNow } from "../../src/engine/clock.ts";

export interface WireSpeed {
  /** Bytes per millisecond the wire carries; Infinity: no limit. */
  bytesPerMs: number;
  /** One-way delay added to every message, ms. */
  delayMs: number;
}

export const FAST_WIRE: WireSpeed = { bytesPerMs: Number.POSITIVE_INFINITY, delayMs: 0 };

/** One direction: messages leave one after another at the wire's rate, arrive `delayMs` later. */
class Wire {
  speed: WireSpeed = FAST_WIRE;
  /** Bytes put on this wire. */
  bytes = 0;
  private queue: { at: number; bytes: Uint8Array }[] = [];
  private lastDeparture = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  closed = false;

  constructor(private readonly deliver: (bytes: Uint8Array) => void) {}

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.bytes += bytes.length;
    const now = realNow();
    this.lastDeparture = Math.max(now, this.lastDeparture) + bytes.length / this.speed.bytesPerMs;
    this.queue.push({ at: this.lastDeparture + this.speed.delayMs, bytes: bytes.slice() });
    this.arm();
  }

  /** One timer, for the head of the queue: arrivals keep their order whatever the speed changes. */
  private arm(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = realNow();
      while (this.queue.length > 0 && this.queue[0]!.at <= now && !this.closed) this.deliver(this.queue.shift()!.bytes);
      this.arm();
    }, Math.max(0, this.queue[0]!.at - realNow()));
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** One end of the link. */
class SlowEnd implements LoggingChannel {
  readonly lossless = true;
  // What waits on the wire is counted by the protocol as unacknowledged: the transport itself
  // reports nothing buffered, so the host's endpoint hands it everything at once.
  readonly bufferedAmount = 0;
  onmessage: ((bytes: Uint8Array) => void) | null = null;
  onclose: (() => void) | null = null;
  ondrain: (() => void) | null = null;

  constructor(
    private readonly out: Wire,
    private readonly closeBoth: () => void,
  ) {}

  get open(): boolean {
    return !this.out.closed;
  }

  send(bytes: Uint8Array): void {
    this.out.send(bytes);
  }

  close(): void {
    this.closeBoth();
  }
}

/** Two connected ends (`a` sends on `ab`, `b` on `ba`); set each wire's speed at any time. */
export function slowLink(): { a: LoggingChannel; b: LoggingChannel; ab: Wire; ba: Wire } {
  let a: SlowEnd | null = null;
  let b: SlowEnd | null = null;
  const ab = new Wire((bytes) => b!.onmessage?.(bytes));
  const ba = new Wire((bytes) => a!.onmessage?.(bytes));
  const closeBoth = () => {
    if (ab.closed) return;
    ab.close();
    ba.close();
    a!.onclose?.();
    b!.onclose?.();
  };
  a = new SlowEnd(ab, closeBoth);
  b = new SlowEnd(ba, closeBoth);
  return { a, b, ab, ba };
}
