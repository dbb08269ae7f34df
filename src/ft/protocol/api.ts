/**
 * The host adapter's contract: events in, actions out, in the style of etcd/raft's
 * Ready/Advance. The agent is a pure function of the events it was fed (and the `now`
 * passed with each), so the simulator and the real worker drive exactly the same code.
 *
 * Rules for the host adapter:
 * - Call `agent.step(now, event)` for every event, in the order they happened, and perform
 *   the returned actions in order before feeding anything else.
 * - A primary feeds the log entries of its frames (`logEntriesProduced`) before the events of
 *   those frames (`outputProduced`, `inputApplied`, `diskReadIssued`, `ioCompleted`), and
 *   `frameDone` last: an output then reaches the Output Rule with its frame's entries already in
 *   the log, so any acknowledgement that releases it covers them. (Positions alone would keep
 *   the rule safe in the other order too; this order makes it hold by construction, and the
 *   simulator checks that the host keeps it.)
 * - Only touch the VM between frames (determinism.md): `injectInput`, `completeIo`,
 *   `provideReadData`, `snapshotForClone`, `restoreSnapshot` and `goLive` apply at the next
 *   frame boundary.
 * - Feed `tick` regularly (every few ms, at least several times per heartbeat interval).
 */
import type { Epoch, HostId, Millis, Position } from './types';
import type { ChannelMsg, ClientMsg, CloneState, IoCompletionMeta, LogRecord, PendingIo, ToClientMsg } from './messages';
import type { TasResult } from './lock-store';
import type { PrimaryState } from './primary';
import type { BackupState } from './backup';

/** Every state a host's protocol agent can be in, named after the paper (a standby waits for a clone). */
export type AgentState = PrimaryState | BackupState | 'waiting';

/** A log entry as the engine produced it: payload encoded by src/ft/log, opaque here. */
export interface ProducedEntry {
  position: Position;
  bytes: Uint8Array;
  /** Set when the entry delivers a disk I/O completion to the guest. */
  io?: IoCompletionMeta;
}

export type StorageResult =
  | { op: 'write'; ioId: number; epoch: Epoch; ok: true }
  | { op: 'write'; ioId: number; epoch: Epoch; ok: false; reason: 'stale-epoch' | 'unavailable' }
  | { op: 'read'; ioId: number; ok: true; data: Uint8Array }
  | { op: 'read'; ioId: number; ok: false; reason: 'unavailable' }
  | { op: 'test-and-set'; reqId: number; result: TasResult };

export type FtEvent =
  /** Periodic: timeouts, heartbeats, retransmits, retries, lag control. */
  | { type: 'tick' }
  /** Engine recorded log entries (primary; ignored on a backup). Feed before the events of their frames and `frameDone`. */
  | { type: 'logEntriesProduced'; entries: ProducedEntry[] }
  /**
   * The host could not send or receive for `ms` until now: a long frame, or restoring a
   * snapshot. Feed it right after the stall, before any event queued during it.
   */
  | { type: 'stalled'; ms: Millis }
  /** A frame finished at `position` (primary: executed; backup: replayed). */
  | { type: 'frameDone'; position: Position; guestTime: number }
  /** The guest produced an output. The backup feeds these too (the output is dropped, but
   * offsets and pending I/O must be tracked for the day it goes live). */
  | { type: 'outputProduced'; kind: 'console'; position: Position; bytes: Uint8Array }
  | { type: 'outputProduced'; kind: 'disk-write'; position: Position; ioId: number; block: number; data: Uint8Array }
  /** A network packet the guest transmitted (paper 2.2's example of an output). */
  | { type: 'outputProduced'; kind: 'packet'; position: Position; frame: Uint8Array }
  /** A packet from the network for the VM (via the virtual switch): a live primary logs and injects it; anyone else drops it. */
  | { type: 'packetReceived'; frame: Uint8Array }
  /** The guest issued a disk read (an input, not an output: never delayed). */
  | { type: 'diskReadIssued'; position: Position; ioId: number; block: number }
  /** The guest observed an I/O completion (primary: applied; backup: replayed). */
  | { type: 'ioCompleted'; position: Position; ioId: number }
  /** The engine applied client input `seq` (primary: injected; backup: replayed). */
  | { type: 'inputApplied'; position: Position; seq: number }
  /** A logging-channel message from the peer host. */
  | { type: 'message'; from: HostId; msg: ChannelMsg }
  /** A message from the client panel (input, or its console acknowledgement). */
  | { type: 'clientMessage'; msg: ClientMsg }
  | { type: 'storageResult'; result: StorageResult }
  /** Reply to `snapshotForClone`: the engine state at a frame boundary. */
  | { type: 'snapshotTaken'; cloneId: number; position: Position; guestTime: number; snapshot: Uint8Array }
  /**
   * The cluster service saw `host` leave on purpose (its tab was closed and said goodbye): the
   * failure detector need not wait out its timeout. Only a hint, never a decision: a wrong one
   * is a false failure detection, and go-live still goes through the test-and-set (paper 2.3).
   */
  | { type: 'peerLeft'; host: HostId }
  /** The cluster service asks a lone primary to restore redundancy on `target` (paper 3.1). */
  | { type: 'startClone'; target: HostId }
  /** Orderly stop (paper 3.3): the backup is told through the log and does not go live. */
  | { type: 'powerOff' };

export type FtAction =
  | { type: 'send'; to: HostId; msg: ChannelMsg }
  /** An externally visible output, already cleared by the Output Rule: forward to the client. */
  | { type: 'releaseOutput'; msg: ToClientMsg }
  /** Fenced write: the store must reject it unless `epoch` is the lock record's epoch.
   * With a non-shared disk this goes to the host's own disk copy. */
  | { type: 'writeBlock'; ioId: number; block: number; data: Uint8Array; epoch: Epoch }
  | { type: 'readBlock'; ioId: number; block: number }
  /** Paper 3.4: a pending I/O re-issued by a new primary; perform like writeBlock/readBlock. */
  | { type: 'reissueDiskIo'; io: PendingIo; epoch: Epoch }
  /** Deliver the completion (and read data) to the guest at the next frame boundary, and log it. */
  | { type: 'completeIo'; ioId: number; data?: Uint8Array }
  /** Backup-reads mode: data the backup read itself for a logged completion. */
  | { type: 'provideReadData'; ioId: number; data: Uint8Array }
  /** Put a received packet into the VM's NIC at the next frame boundary (logged there). */
  | { type: 'injectPacket'; frame: Uint8Array }
  /** A transmitted packet cleared by the Output Rule: put it on the network. */
  | { type: 'transmitPacket'; epoch: Epoch; frame: Uint8Array }
  /** Hand client input to the engine; it is applied (and logged) at the next frame boundary. */
  | { type: 'injectInput'; seq: number; bytes: Uint8Array }
  /** Backup: complete frames the engine may now replay, in order. */
  | { type: 'replay'; records: LogRecord[] }
  | { type: 'testAndSet'; reqId: number; expectEpoch: Epoch; owner: HostId; force: boolean }
  /** Leave replay (backup) or recording (primary) and run as the only live VM. */
  | { type: 'goLive'; epoch: Epoch; from: 'primary' | 'backup' }
  | { type: 'halt'; reason: string }
  /** Stop running frames: until resumeExecution (flow control), or for good (power-off). */
  | { type: 'pauseExecution'; reason: 'flow-control' | 'power-off' }
  | { type: 'resumeExecution' }
  /** Lag control: run the frame loop at this fraction of full speed. */
  | { type: 'setSpeed'; factor: number }
  /** At the next frame boundary: save the engine state, restart this side from it (see
   * determinism.md, "Cloning a running VM"), and reply with `snapshotTaken`. With a
   * non-shared disk the snapshot must include the disk image. */
  | { type: 'snapshotForClone'; cloneId: number; includeDisk: boolean }
  /** Standby host: create the engine from the clone snapshot, in replay mode. */
  | { type: 'restoreSnapshot'; clone: CloneState }
  /** Informational: role/state changed (for the UI and traces). */
  | { type: 'stateChanged'; role: Role; state: AgentState; epoch: Epoch };

export type Role = 'standby' | 'primary' | 'backup';
