/**
 * Lockstep FT protocol core (Scales, Nelson, Venkitachalam, "The Design of a Practical
 * System for Fault-Tolerant Virtual Machines"). Pure and deterministic: no clocks, timers,
 * randomness or I/O. See README.md for the mechanism map and the host-adapter contract.
 *
 * Usage from a host adapter:
 *
 *   const agent = createFtAgent(makeConfig({}, WORKER_DEFAULTS), 'A#1', { role: 'primary', epoch: 1, backup: 'B#1' }, now);
 *   for (const action of agent.step(now, { type: 'tick' })) perform(action);
 */
export * from './types';
export * from './config';
export * from './messages';
export * from './api';
export * from './lock-store';
export { OutputRule } from './output-rule';
export { FlowControl, type FlowPauseState } from './flow-control';
export { LagControl } from './lag-control';
export { FailureDetector, Every } from './failure-detector';
export { GoLive, type GoLiveOutcome, type TestAndSetRequest } from './go-live';
export { LogSender, LogReceiver } from './logging-channel';
export { DiskIo, blockHash } from './disk-io';
export { ConsoleServer, ConsoleClient } from './console-stream';
export { CloneSource, type ClonePhase } from './ft-vmotion';
export { Primary, type PrimaryState, type PrimaryInit } from './primary';
export { Backup, type BackupState, type BackupInit, type Promotion } from './backup';
export { FtAgent, type AgentInit, type AgentStatus } from './agent';

import type { FtConfig } from './config';
import type { HostId, Millis } from './types';
import { FtAgent, type AgentInit } from './agent';

export function createFtAgent(cfg: FtConfig, me: HostId, init: AgentInit, now: Millis): FtAgent {
  return new FtAgent(cfg, me, init, now);
}
