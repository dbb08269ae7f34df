/**
 * What a host reports to the page about itself, several times a second. The UI renders it
 * directly; nothing here feeds back into the protocol.
 */
export type HostRole = "primary" | "backup" | "standby";

export interface HostStatus {
  hostId: string;
  role: HostRole;
  /** Protocol state named after the paper: recording, alone, going-live, replaying, draining, promoted, halted… */
  state: string;
  frame: number;
  /** 64-bit instruction count, as a decimal string (bigint does not cross every boundary). */
  icount: string;
  /** Backup only: how far its replay trails the primary, in guest milliseconds. */
  lagMs: number;
  /** Log bytes per second over the last second, sent (primary) or received (backup). */
  logBytesPerSec: number;
  /** Primary only: log bytes sent but not yet acknowledged (flow control watches this). */
  unackedBytes: number;
  /** Primary only: outputs held back by the Output Rule, waiting for an ack. */
  heldOutputs: number;
  epoch: number;
  /** Last position whose state hash the backup verified equal to the primary's. */
  verifiedFrame: number;
  /** Primary only: the speed factor lag control has set (1 = full speed). */
  speed: number;
}

export interface ProtocolEvent {
  /** Page-clock ms, for ordering the feed across hosts. */
  at: number;
  hostId: string;
  kind: string;
  text: string;
}
