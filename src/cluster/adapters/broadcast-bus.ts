import type { BusMsg } from "../messages.ts";

/**
 * The tabs' bus: one BroadcastChannel per origin that every Lockstep tab in tab mode joins,
 * carrying the cluster service's messages (src/cluster/messages.ts). Log entries never pass
 * here: they go host to host over the WebRTC data channel, inside the host workers.
 *
 * BroadcastChannel delivers every message to every other tab of the origin (not to the sender),
 * in order per sender, and structured-clones Uint8Arrays.
 */
export const BUS_NAME = "lockstep-tabs";

/** Typed wrapper: subscribe by message type. */
export class BroadcastBus {
  private readonly bc: BroadcastChannel;
  private readonly handlers = new Map<BusMsg["t"], ((m: BusMsg) => void)[]>();
  closed = false;

  constructor(name = BUS_NAME) {
    this.bc = new BroadcastChannel(name);
    this.bc.onmessage = (e: MessageEvent<BusMsg>) => this.deliver(e.data);
  }

  /** Hands a message to this tab's handlers only (one the transport learnt otherwise than by the bus). */
  deliver(msg: BusMsg): void {
    for (const h of this.handlers.get(msg.t) ?? []) h(msg);
  }

  on<T extends BusMsg["t"]>(t: T, handler: (m: Extract<BusMsg, { t: T }>) => void): void {
    const list = this.handlers.get(t) ?? [];
    list.push(handler as (m: BusMsg) => void);
    this.handlers.set(t, list);
  }

  post(msg: BusMsg): void {
    if (!this.closed) this.bc.postMessage(msg);
  }

  close(): void {
    this.closed = true;
    this.bc.close();
  }
}
