import type { AgentInit } from "../ft/protocol/index.ts";
import { Host } from "../host/host.ts";
import type { EngineFactory } from "../host/engine-port.ts";
import type { HostTiming } from "../host/ports.ts";
import type { SimNode } from "./sim-node.ts";
import { ToyEngine, type ToyEnv } from "./toy-engine.ts";
import type { World } from "./world.ts";

/** The host's real-time constants on the simulator's scale (its failure timeout is 24 ms, a frame 2 ms). */
export const SIM_TIMING: Partial<HostTiming> = {
  sliceMs: 2,
  batchMaxMs: 4,
  batchMaxFrames: 8,
  tickMs: 2,
  stallMs: 5,
  remusBudgetMs: 1,
  statusMs: 50,
  diskCountMs: 200,
  rendezvousMs: 24,
  rendezvousBeatMs: 2,
  idleMs: 4,
};

/**
 * The simulator's host factory: the real host (src/host/host.ts) on a simulated machine, with
 * the toy engine, simulated storage and network, and the machine's thread for time. A cluster
 * service creates hosts the same way, through a function of (id, initial role).
 */
export function simHost(w: World, node: SimNode, init: AgentInit): Host {
  const { storage, disk } = w.storage.portsFor(node);
  return new Host({
    hostId: node.id,
    init,
    ft: w.cfg,
    engines: toyEngines(w, node),
    storage,
    disk,
    diskName: w.sc.diskMode === "shared" ? "shared" : node.id,
    events: {
      toClient: (msg) => w.toClient(node, msg),
      status: () => undefined,
      event: (e) => w.hostEvent(node, e),
    },
    scheduler: node.thread.scheduler(),
    timing: SIM_TIMING,
    observe: { fed: (ev) => w.fed(node, ev), performing: (a) => w.performing(node, a) },
  });
}

function toyEngines(w: World, node: SimNode): EngineFactory {
  const env: ToyEnv = {
    diskReads: w.sc.readMode === "backup-reads" ? "backup" : "log",
    draw: () => w.rng.u32(),
    burn: (ms) => node.thread.burn(ms),
    frameCostMs: w.sc.frameMs / (w.sc.cpu[node.name] ?? 1),
    settled: (value) => {
      w.q.markAsync();
      return Promise.resolve(value);
    },
    frameRun: (engine, digest) => w.frameRun(node, engine, digest),
  };
  return {
    boot: (mode, hooks) => env.settled(new ToyEngine(mode, env, hooks)),
    restore: (snapshot, hooks) => env.settled(new ToyEngine("replay", env, hooks, { snapshot })),
    recorder: () => null,
  };
}
