import type { FtAgent, FtEvent } from "../ft/protocol/index.ts";
import type { HostEngine, HostRecorder } from "./engine-port.ts";
import type { HostEvent } from "./events.ts";
import type { HostPorts, HostTiming } from "./ports.ts";
import type { HostScheduler } from "./scheduler.ts";
import type { StallSource } from "./loop-probe.ts";

/**
 * What the parts of one host share: its ports, the engine and recording of the VM it runs now,
 * the protocol agent, and the few calls every part may make. Host (host.ts) implements it.
 */
export interface HostContext {
  readonly ports: HostPorts;
  readonly timing: HostTiming;
  readonly scheduler: HostScheduler;
  /** Null before boot, while a standby waits for its clone, and once stopped. */
  readonly engine: HostEngine | null;
  /** Null until the agent starts (after the rendezvous of a pair booted together). */
  readonly agent: FtAgent | null;
  readonly recorder: HostRecorder | null;
  readonly stopped: boolean;
  /** The lecture's pause: the host's time stands still (Host.freezeWorld). */
  readonly frozen: boolean;
  /**
   * Calls `f` on the engine at its next frame boundary: now, or, while a clone is still being
   * restored, once the restored engine exists (in the order the calls came).
   */
  withEngine(f: (engine: HostEngine) => void): void;
  /** Feeds an event to the protocol agent and performs its actions (agent-driver.ts). */
  feed(ev: FtEvent): void;
  event(e: HostEvent): void;
  /** The frame loop has something new to do (input, log to replay, a state change). */
  wake(): void;
  reportStatus(): void;
  /**
   * The thread ran `what` since `start` without looking at the event loop: tell the protocol if it
   * was long, and the stall meter what it was (bench:ft prints the longest stalls by source).
   */
  stalledSince(start: number, what: StallSource): void;
  /** The host is in the middle of `what` (null: done): late stall-meter turns meanwhile are its. */
  doing(what: StallSource | null): void;
  /** Only for the stall meter's attribution: the thread ran `what` since `start` (no `stalled` event). */
  ranSince(start: number, what: StallSource): void;
  /** A fatal error (a divergence): report it and stop. */
  fail(e: unknown): void;
  /** This host cannot go on, through no fault of the replay (fail-stop): report it and stop. */
  failStop(reason: string): void;
}

/** A position of the protocol from an engine's frame number and instruction count. */
export const pos = (frame: number, icount: number) => ({ frame, icount: BigInt(icount) });
