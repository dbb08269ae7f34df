import type { LoggingChannel } from "../channel/logging-channel.ts";
import type { ClientMsg } from "../ft/protocol/index.ts";
import type { HostHandle, LoggingChannelEnd } from "../cluster/ports.ts";
import { agentInitOf, type FtHostConfig, type FtHostEvents, type HostControl } from "../host/ft-api.ts";
import { Host } from "../host/host.ts";
import type { EngineFactory } from "../host/engine-port.ts";
import type { HostTiming } from "../host/ports.ts";
import type { SimChannel } from "./sim-network.ts";
import { SimNode } from "./sim-node.ts";
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
  // The stall meter measures a real thread; simulated time has no stalls to find.
  loopProbeMs: 0,
};

/** The page a host reports to: its member's cluster service, unless that tab died. */
export interface HostOwner {
  readonly alive: boolean;
}

/**
 * What the cluster service's `HostMachines.spawn` does on a simulated machine (what a Web Worker
 * running src/host/ft-host.ts is in the product): the real host (src/host/host.ts) with the toy
 * engine, simulated storage and network, and a thread of its own for time. Its status and events
 * reach the page a moment later (a worker's postMessage); its client output goes to the world's
 * client, the outside world, over the network.
 */
export function spawnSimHost(w: World, owner: HostOwner, machine: string, config: FtHostConfig, events: FtHostEvents): { handle: HostHandle; started: Promise<void> } {
  const node = new SimNode(w.q, machine, config.hostId, config.diskId);
  const toPage = (fn: () => void) => w.q.after(0, () => owner.alive && fn());
  const init = agentInitOf(config);
  const { storage, disk } = w.storage.portsFor(node);
  node.host = new Host({
    hostId: node.id,
    init,
    ft: w.cfg,
    engines: toyEngines(w, node),
    storage,
    disk,
    diskName: w.sc.diskMode === "shared" ? "shared" : node.id,
    events: {
      toClient: (msg) => w.toClient(node, msg),
      toNetwork: (frame) => w.toNetwork(node, frame),
      status: (s) => toPage(() => events.status(s)),
      event: (e) => {
        w.hostEvent(node, e);
        toPage(() => events.event(e));
      },
    },
    scheduler: node.thread.scheduler(),
    timing: SIM_TIMING,
    observe: { fed: (ev) => w.fed(node, ev), performing: (a) => w.performing(node, a) },
  });
  w.addHost(node, init.role);
  const started = new Promise<void>((resolve, reject) => w.q.after(0, () => node.thread.run(() => node.host.start().then(resolve, reject))));
  started.catch((e: unknown) => w.violation(`${node.id} start failed: ${String(e)}`));
  return { handle: new SimHostHandle(w, node), started };
}

/** The cluster service's handle on a simulated host: what the page's postMessages to a worker do. */
class SimHostHandle implements HostHandle {
  constructor(
    private readonly w: World,
    private readonly node: SimNode,
  ) {}

  get id(): string {
    return this.node.id;
  }

  attachLoggingChannel(peer: string, end: LoggingChannelEnd): void {
    const channel = end as unknown as SimChannel;
    channel.owner = this.node;
    this.node.thread.run(() => this.node.host.attachChannel(peer, channel as LoggingChannel));
  }

  /**
   * The service's client mirror (the UI's outside world) is not the simulator's: the world's
   * client talks to the hosts itself, and the checks judge what it holds. Its messages are dropped.
   */
  client(_msg: ClientMsg): void {}

  control(c: HostControl): void {
    const { node, w } = this;
    const host = node.host;
    node.thread.run(() => {
      if (!node.alive) return;
      switch (c.t) {
        case "start-clone":
          w.stats.clones++;
          w.trace(`cluster: ${node.id} is asked to clone into ${c.target}`);
          return host.startClone(c.target);
        case "peer-left":
          w.stats.hints++;
          w.trace(`cluster: ${node.id} is told ${c.host} left`);
          return host.peerLeft(c.host);
        case "cut-channel":
          return host.cutChannel();
        case "fail-after-output":
          return host.failAfterOutput(c.line);
        case "power-off":
          return host.powerOff();
        case "vm-pause":
          return host.setVmPaused(c.paused);
        case "vm-step":
          return host.stepVm();
        case "vm-pace":
          return host.setPace(c.pace);
        case "zombie-write":
          return void host.zombieWrite();
        case "remus":
          return host.setRemus(c.epochMs);
        case "freeze":
        case "storage":
          // The UI's teaching controls; the simulator's faults come from its scenario.
          return;
      }
    });
  }

  recording(): Promise<Uint8Array> {
    return Promise.reject(new Error("the toy engine keeps no recording"));
  }

  kill(): void {
    this.w.killHost(this.node, "its worker was terminated by the cluster service");
  }
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
