/** The simulator's time scale and bounds, and what a run counts. */
import type { FtConfig } from "../ft/protocol/config.ts";

export interface RunStats {
  frames: number;
  replayedFrames: number;
  messages: number;
  failovers: number;
  clones: number;
  pauses: number;
  slowdowns: number;
  halts: number;
  stalls: number;
  lost: boolean;
  clientBytes: number;
  inputsAcked: number;
  /** The cluster service at work: tabs opened, "peer left" hints given, members dropped, clones abandoned and retried. */
  tabs: number;
  hints: number;
  membersLeft: number;
  cloneRetries: number;
  /** Packets: transmitted by a live primary (each checked against the Output Rule), received by the client, checked at the end. */
  packetsOut: number;
  packetsRuleChecked: number;
  packetReplies: number;
  /** Power-offs asked for, and how the primary kept the backup from going live (power-off.ts). */
  powerOffs: number;
  powerOffsFenced: number;
  powerOffsOvertaken: number;
}

export const SIM_FT: Partial<FtConfig> = {
  heartbeatIntervalMs: 4,
  failureTimeoutMs: 24,
  // The toy VM restores a snapshot at once: one timeout of grace, on the simulator's time scale.
  cloneGraceMs: 24,
  bootGraceMs: 24,
  graceFrames: 10,
  stallWindowMs: 40,
  retransmitMs: 6,
  storageRetryMs: 4,
  maxUnackedLogBytes: 3000,
  resumeUnackedLogBytes: 1500,
  lagBoundMs: 16,
  minSpeed: 0.2,
  speedStep: 0.1,
  lagAdjustIntervalMs: 4,
  consoleResendMs: 6,
  maxRecordsPerMessage: 128,
};

/** After healing, a surviving VM must be live and serving the client within this bound. */
export const LIVENESS_BOUND_MS = 150;
/**
 * A primary alone while a standby waits has a new backup within this long, after the faults
 * healed: the cluster service's retry of a clone that makes no progress (CLONE_RETRY_MS, 20 s
 * in the product, 160 ms here) plus a clone.
 */
export const REDUNDANCY_BOUND_MS = 200;
/** Storage operations and messages in flight when the faults heal have landed this long after. */
export const SETTLE_MS = 8;

export function newStats(): RunStats {
  return {
    frames: 0,
    replayedFrames: 0,
    messages: 0,
    failovers: 0,
    clones: 0,
    pauses: 0,
    slowdowns: 0,
    halts: 0,
    stalls: 0,
    lost: false,
    clientBytes: 0,
    inputsAcked: 0,
    tabs: 0,
    hints: 0,
    membersLeft: 0,
    cloneRetries: 0,
    packetsOut: 0,
    packetsRuleChecked: 0,
    packetReplies: 0,
    powerOffs: 0,
    powerOffsFenced: 0,
    powerOffsOvertaken: 0,
  };
}
