// Builds the parts of an engine and wires them to each other and to the machine's hooks
// (RDRAND, console bytes, disk requests). LockstepEngine (engine.ts) is the facade over them.

import { Checkpoints } from "./checkpoints.ts";
import { realNow as defaultRealNow } from "./clock.ts";
import { Cloner } from "./clone.ts";
import { ConsoleOutput } from "./console-output.ts";
import { DiskRequests } from "./disk-requests.ts";
import { FrameRunner } from "./frame.ts";
import { Machine, type MachineHooks } from "./machine.ts";
import { NetTransmits } from "./net-device.ts";
import { Observers } from "./observer.ts";
import type { EngineMode, EngineOptions } from "./options.ts";
import { cryptoEntropy, Recorder } from "./recorder.ts";
import { Replayer } from "./replayer.ts";
import { emptyStats, type EngineStats } from "./stats.ts";
import { Wakeup, type VirtualClock } from "./virtual-clock.ts";

export interface EngineParts {
  stats: EngineStats;
  observers: Observers;
  wakeup: Wakeup;
  frames: FrameRunner;
  clock: VirtualClock;
  console: ConsoleOutput;
  net: NetTransmits;
  disk: DiskRequests;
  recorder: Recorder;
  replayer: Replayer;
  cloner: Cloner;
  /** A fresh machine whose hooks lead to these parts (boot, restore, clone). */
  newMachine(): Promise<Machine>;
}

/** `mode` is read live: a replayer becomes a recorder at go-live. */
export function composeParts(opts: EngineOptions, mode: () => EngineMode): EngineParts {
  const session = opts.session;
  const stats = emptyStats();
  const observers = new Observers();
  const wakeup = new Wakeup();
  const wake = () => wakeup.wake();
  const realNow = opts.realNow ?? defaultRealNow;
  const consoleOut = new ConsoleOutput(stats);
  const net = new NetTransmits(stats);
  const checkpoints = new Checkpoints(session, stats, (c) => observers.checkpoint(c));
  const clockOptions = { ipms: session.ipms, epochMs: session.epochMs, realNow, maxLagMs: opts.maxLagMs ?? 25, maxLeadMs: opts.maxLeadMs ?? 2, exactHaltEnd: session.haltClock === 2 };
  const runner = new FrameRunner({ console: consoleOut, net, checkpoints, stats }, clockOptions);
  const clock = runner.clock;
  const disk = new DiskRequests(session.diskCacheBytes ?? 0, opts.disk, opts.external, {
    stats,
    isRecording: () => mode() === "record",
    wake,
    callGuest: (fn) => runner.machine.call(clock.time, fn),
  });
  const recorder = new Recorder({ session, frames: runner, clock, disk, stats, observers, wake, realNow, frameBudgetMs: opts.frameBudgetMs === undefined ? 10 : opts.frameBudgetMs, entropy: opts.entropy ?? cryptoEntropy });
  const replayer = new Replayer({ frames: runner, clock, disk, stats, observers });
  const hooks: MachineHooks = {
    rdrand: () => {
      stats.rdrand++;
      if (!runner.inFrame) return 0;
      return mode() === "record" ? recorder.rdrand() : replayer.rdrand();
    },
    serialOut: (b) => consoleOut.byte(b),
    netSend: (view) => net.packet(view),
    diskRead: (start, len, done) => disk.read(start, len, done),
    diskWrite: (start, data, done) => disk.write(start, data, done),
  };
  const machineOptions = { jit: session.jit, clockMs: 0, epochMs: session.epochMs };
  const newMachine = () => Machine.create(opts.wasm, opts.images, machineOptions, { current: hooks });
  const cloner = new Cloner({ session, frames: runner, clock, console: consoleOut, net, disk, checkpoints, stats, realNow, newMachine });
  return { stats, observers, wakeup, frames: runner, clock, console: consoleOut, net, disk, recorder, replayer, cloner, newMachine };
}
