import type { ClientMsg, ToClientMsg } from "../ft/protocol/index.ts";
import type { HostStatus, ProtocolEvent } from "../host/status.ts";

/**
 * The tab cluster's bus: one BroadcastChannel per origin that every Lockstep tab in tab mode
 * joins. It carries what the paper's cluster service (§3.1) needs — membership, WebRTC
 * signalling for the logging channel, the choice of the next backup — and the outside world
 * (client input and host output), never the log itself: log entries go host to host over the
 * WebRTC data channel, inside the host workers.
 *
 * BroadcastChannel delivers every message to every other tab of the origin (not to the sender),
 * in order per sender, and structured-clones Uint8Arrays.
 */
export const BUS_NAME = "lockstep-tabs";

/** What a tab says about itself, several times a second (membership with heartbeats). */
export interface TabBeat {
  t: "beat";
  tab: string;
  /** Page-clock independent: Date.now() when the tab opened (oldest standby is picked first). */
  joinedAt: number;
  /** The VM this tab's host belongs to (disk id of the shared disk), once it knows one. */
  vm: { diskId: string; diskMode: "shared" | "non-shared" } | null;
  hostId: string | null;
  status: HostStatus | null;
  /** This tab's client holds the console stream up to here. */
  clientLength: number;
}

export type SignalKind = "offer" | "answer" | "ice";

export type BusMsg =
  | TabBeat
  | { t: "bye"; tab: string }
  /** WebRTC signalling of one logging channel (`link`), addressed to one tab. */
  | { t: "signal"; link: string; from: string; to: string; kind: SignalKind; data: unknown }
  /** The standby's data channel arrived (ondatachannel) and is in its host worker: clone now. */
  | { t: "link-up"; link: string; from: string; to: string }
  /** Typed input, sent once by the tab where the user typed; every tab mirrors it. */
  | { t: "client-input"; tab: string; seq: number; bytes: Uint8Array }
  /** How much of the console stream a tab's client holds; hosts are told the minimum. */
  | { t: "client-ack"; tab: string; offset: number }
  /** An output released by a live primary (Output Rule already applied), for every tab's client. */
  | { t: "to-client"; msg: ToClientMsg }
  /** A tab that joined late or saw a gap asks peers for the stream from `from`. */
  | { t: "sync-req"; tab: string; from: number }
  | {
      t: "sync";
      to: string;
      offset: number;
      bytes: Uint8Array;
      /** Input sequence state of the client: sent so far, acknowledged, and the unacknowledged ones. */
      sentInputs: number;
      inputAcked: number;
      unacked: [number, Uint8Array][];
    }
  | { t: "event"; ev: ProtocolEvent }
  /** Remote control of another tab's host (the "Freeze" and "Zombie write" buttons work from any tab). */
  | { t: "control"; to: string; control: "freeze" | "zombie-write"; ms?: number };

export type { ClientMsg };

/** Typed wrapper: subscribe by message type. */
export class BroadcastBus {
  private readonly bc: BroadcastChannel;
  private readonly handlers = new Map<BusMsg["t"], ((m: BusMsg) => void)[]>();
  closed = false;

  constructor(name = BUS_NAME) {
    this.bc = new BroadcastChannel(name);
    this.bc.onmessage = (e: MessageEvent<BusMsg>) => {
      for (const h of this.handlers.get(e.data.t) ?? []) h(e.data);
    };
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
