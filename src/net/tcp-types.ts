// The client TCP's states, options, counters and events (tcp.ts).

export type TcpState =
  | "closed"
  | "syn-sent"
  | "established"
  | "fin-wait-1"
  | "fin-wait-2"
  | "closing"
  | "time-wait"
  | "close-wait"
  | "last-ack";

export type CloseReason = "fin" | "reset" | "timeout" | "aborted";

export interface TcpOptions {
  mss: number;
  /** Receive buffer: the most this side advertises (16-bit window, no scaling). */
  recvBuffer: number;
  rtoInitialMs: number;
  rtoMinMs: number;
  rtoMaxMs: number;
  /** Consecutive timeouts without progress before the connection is given up. */
  maxRetransmits: number;
  timeWaitMs: number;
}

export const TCP_DEFAULTS: TcpOptions = {
  mss: 1460,
  recvBuffer: 65535,
  rtoInitialMs: 1000,
  rtoMinMs: 200,
  rtoMaxMs: 30_000,
  maxRetransmits: 15,
  timeWaitMs: 1000,
};

export interface TcpStats {
  segmentsIn: number;
  segmentsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Retransmission timeouts, and the duplicate-ACK (fast) retransmits. */
  timeouts: number;
  fastRetransmits: number;
  /** Duplicate ACKs received. */
  dupAcks: number;
  /**
   * Segments the peer sent again: they start below the highest sequence number it had already
   * sent. After a failover, the new primary's resends: of what the old primary's Output Rule
   * never released (they fill the gap) and of what it did (duplicates).
   */
  retransmitsIn: number;
  /** Segments whose data this side already had (a resend, e.g. by a new primary): discarded. */
  duplicates: number;
  /** Segments that arrived ahead of a gap and were held. */
  outOfOrder: number;
  srttMs: number | null;
}

export interface TcpEvents {
  connected?(): void;
  data?(bytes: Uint8Array): void;
  /** The peer closed its side (FIN received in order): no more data will come. */
  end?(): void;
  closed?(reason: CloseReason): void;
}

export function emptyTcpStats(): TcpStats {
  return { segmentsIn: 0, segmentsOut: 0, bytesIn: 0, bytesOut: 0, timeouts: 0, fastRetransmits: 0, dupAcks: 0, retransmitsIn: 0, duplicates: 0, outOfOrder: 0, srttMs: null };
}
