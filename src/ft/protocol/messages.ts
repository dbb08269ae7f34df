/**
 * Everything that crosses the logging channel (paper 2.2, 3.2) or the client link.
 *
 * The log entry payload is produced and decoded by the engine's codec (src/ft/log, owned
 * elsewhere); here it is opaque bytes. The protocol only needs each entry's position (for
 * the Output Rule), its size (for flow control) and, for entries that complete a disk I/O,
 * the small `io` header below (so the backup knows which I/O a frame depends on when it must
 * perform disk operations itself).
 */
import type { Epoch, HostId, Position } from './types';

export interface IoCompletionMeta {
  ioId: number;
  /** Hash of the read data (backup-reads mode only): the backup reads the block itself and
   * must get exactly what the primary's guest saw (paper 4.2). */
  hash?: number;
}

/**
 * A record on the logging channel. Records carry consecutive sequence numbers so the
 * backup can acknowledge a prefix and the primary can count unacked bytes.
 *
 * `frame-end` marks "the log for this frame is complete": it is the special log entry the
 * paper creates for outputs, generalised to every frame. An output produced in frame f is
 * released once frame f's frame-end is acknowledged, and a backup that goes live replays
 * whole frames only, so it always passes the output's position before going live.
 */
export type LogRecord =
  | { kind: 'entry'; seq: number; position: Position; bytes: Uint8Array; io?: IoCompletionMeta }
  | { kind: 'frame-end'; seq: number; position: Position; guestTime: number }
  /** Paper 3.3: control operations (power off) travel in the log so the backup does not
   * mistake an orderly stop for a failure and go live. */
  | { kind: 'control'; seq: number; position: Position; control: 'power-off' };

/** Fixed per-record overhead counted by flow control (seq + position + kind, encoded). */
export const RECORD_HEADER_BYTES = 16;

export function recordBytes(r: LogRecord): number {
  return r.kind === 'entry' ? RECORD_HEADER_BYTES + r.bytes.byteLength : RECORD_HEADER_BYTES;
}

/** A disk operation the guest issued and has not yet seen complete. */
export interface PendingIo {
  ioId: number;
  kind: 'read' | 'write';
  block: number;
  /** Write payload; kept so the I/O can be re-issued after failover (paper 3.4). */
  data?: Uint8Array;
  position: Position;
}

/** The console stream state that must move with the VM (clone, promotion). */
export interface ConsoleState {
  /** Offset of the next console byte the VM will produce. */
  produced: number;
  /** Highest offset the client is known to hold (everything below can be forgotten). */
  clientAcked: number;
  /** Bytes [clientAcked, produced), which a new primary may have to resend. */
  retained: Uint8Array;
  /** Next client input sequence number the VM has consumed. */
  nextInputSeq: number;
}

/** FT VMotion (paper 3.1): everything a fresh backup needs to start replaying at `position`. */
export interface CloneState {
  cloneId: number;
  epoch: Epoch;
  primary: HostId;
  position: Position;
  guestTime: number;
  /** Engine snapshot (and, for a non-shared disk, the disk image), opaque here. */
  snapshot: Uint8Array;
  /** Sequence number of the first log record after the snapshot. */
  nextSeq: number;
  console: ConsoleState;
  pendingIo: PendingIo[];
}

/** Primary <-> backup. */
export type ChannelMsg =
  | {
      t: 'log';
      epoch: Epoch;
      records: LogRecord[];
      /** Lets the backup drop retained console bytes the client already has. */
      clientAcked: number;
    }
  | {
      t: 'ack';
      epoch: Epoch;
      /** Every record with seq <= ackSeq has been received (a prefix). */
      ackSeq: number;
      /** Lag control: how far the backup has replayed, in position and guest time. */
      replayed: Position;
      guestTime: number;
      cloneId: number;
      /** The acks are the backup's heartbeat: see the heartbeat's `stallMs`. */
      stallMs: number;
    }
  /** `stallMs`: the longest the sender could not send lately (StallMeter); tolerated on top of the timeout. */
  | { t: 'heartbeat'; epoch: Epoch; stallMs: number }
  | { t: 'clone-start'; clone: CloneState };

/** Client -> host. The client sends to every host; only a live primary acts on it. */
export type ClientMsg =
  | { t: 'client-input'; seq: number; bytes: Uint8Array }
  | { t: 'client-ack'; consoleOffset: number };

/** Host -> client. Every message here is an externally visible output. */
export type ToClientMsg =
  | { t: 'console'; epoch: Epoch; from: HostId; offset: number; bytes: Uint8Array }
  | { t: 'input-ack'; epoch: Epoch; from: HostId; nextSeq: number };
