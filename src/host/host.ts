import { macAnnouncement } from "../net/packets.ts";
import type { LoggingChannel } from "../channel/logging-channel.ts";
import type { AgentInit, ClientMsg, FtAgent, FtEvent } from "../ft/protocol/index.ts";
import { StaleEpochError } from "../storage/index.ts";
import { StallFeed } from "./stall-feed.ts";
import { AgentDriver } from "./agent-driver.ts";
import { CloneTransfer } from "./clone-transfer.ts";
import type { EngineHooks, HostEngine, HostRecorder, Pace } from "./engine-port.ts";
import type { HostEvent } from "./events.ts";
import { FrameEffects } from "./frame-effects.ts";
import { FrameLoop } from "./frame-loop.ts";
import { pos, type HostContext } from "./host-context.ts";
import { HostStatusReporter } from "./host-status.ts";
import { LogBatcher } from "./log-batcher.ts";
import { LoopProbe, type StallSource } from "./loop-probe.ts";
import { LineWatch } from "./line-watch.ts";
import { PeerLink } from "./peer-link.ts";
import { REAL_TIMING, type HostPorts, type HostTiming } from "./ports.ts";
import { ReplayFeed } from "./replay-feed.ts";
import { freezable, type FreezableScheduler, type Timer } from "./scheduler.ts";
import { StorageOps } from "./storage-ops.ts";

/**
 * One host: a deterministic engine driven by the FT agent (src/ft/protocol). Everything the
 * paper calls the hypervisor's job happens in its parts: the agent driver feeds the protocol and
 * performs its actions (agent-driver.ts), the frame loop runs the VM (frame-loop.ts), the log
 * batcher orders a primary's log and events (log-batcher.ts), the replay feed does the backup's
 * side (replay-feed.ts), FT VMotion moves the VM (clone-transfer.ts), the peer link carries the
 * logging channel (peer-link.ts), and the status reporter measures (host-status.ts).
 *
 * Made from ports (ports.ts): v86 in a worker or Node (runtime.ts), or the simulator's toys.
 */
export class Host implements HostContext {
  readonly timing: HostTiming;
  /** The injected time, which the lecture's pause can stop (freezeWorld). */
  readonly scheduler: FreezableScheduler;
  engine: HostEngine | null = null;
  recorder: HostRecorder | null = null;
  stopped = false;

  private readonly driver: AgentDriver;
  private readonly link: PeerLink;
  private readonly storageOps: StorageOps;
  private readonly effects: FrameEffects;
  private readonly batcher: LogBatcher;
  private readonly replay: ReplayFeed;
  private readonly clone: CloneTransfer;
  private readonly loop: FrameLoop;
  private readonly status: HostStatusReporter;
  private readonly hooks: EngineHooks;
  /** The stall meter, on the unfrozen scheduler: the lecture's pause stops time, not the thread. */
  private readonly probe: LoopProbe;
  private timers: Timer[] = [];
  private readonly stallFeed: StallFeed;
  private failAfter: LineWatch | null = null;
  /** Engine calls that came while a clone was being restored (see withEngine). */
  private engineInbox: ((engine: HostEngine) => void)[] = [];
  /** Events that arrived while the world was frozen: fed, in order, at the thaw. */
  private frozenInbox: FtEvent[] = [];

  constructor(readonly ports: HostPorts) {
    this.timing = { ...REAL_TIMING, ...ports.timing };
    this.scheduler = freezable(ports.scheduler);
    this.probe = new LoopProbe(ports.scheduler, this.timing.loopProbeMs);
    this.stallFeed = new StallFeed(this.timing.tickMs, this.timing.stallMs);
    this.link = new PeerLink(this, (msg) => this.status.received(msg));
    this.storageOps = new StorageOps(
      ports.storage,
      ports.disk,
      (result) => {
        if (result.op === "write" && !result.ok && result.reason === "stale-epoch") this.status.flow.diskWritesRejected++;
        this.feed({ type: "storageResult", result });
      },
      (refusal) => {
        this.status.storageRefused = refusal;
        this.event(refusal ? { kind: "storage-refused", ...refusal } : { kind: "storage-recovered" });
      },
    );
    this.effects = new FrameEffects((id, offset, length) => this.storageOps.noteRange(id, offset, length));
    this.replay = new ReplayFeed(this, this.effects);
    this.status = new HostStatusReporter(this, this.link, this.replay, () => this.loop.vmState, this.probe);
    this.batcher = new LogBatcher(this, this.effects, this.status.reads);
    this.clone = new CloneTransfer(this, this.batcher, this.replay, this.storageOps, {
      restoreEngine: async (snapshot) => this.listen((this.engine = await ports.engines.restore(snapshot, this.hooks))),
      engineReady: (engine) => {
        for (const f of this.engineInbox.splice(0)) f(engine);
      },
      newRecording: (snapshot, prefix) => (this.recorder = ports.engines.recorder(snapshot, prefix)),
      recording: () => this.recorder?.encode(this.scheduler.wallNow(), { leaveOutBootImage: true }) ?? null,
    });
    this.loop = new FrameLoop(this, {
      live: () => this.agent?.status().live ?? false,
      recordFrame: (e) => {
        this.batcher.recordFrame(e);
        // Remus meter on: a bounded piece of its RAM compare at this frame boundary.
        this.status.remusEpoch();
      },
      batchDue: () => this.batcher.due,
      flush: (e) => this.batcher.flush(e),
      remusEpoch: () => this.status.remusEpoch(),
      cloneDue: (e) => this.clone.due(e),
      takeClone: (e) => {
        this.doing("clone-snapshot");
        return this.clone.take(e).finally(() => this.doing(null));
      },
      replaySlice: (e) => this.replay.slice(e),
    });
    this.driver = new AgentDriver(this, {
      link: this.link,
      storage: this.storageOps,
      batcher: this.batcher,
      replay: this.replay,
      clone: this.clone,
      loop: this.loop,
      status: this.status,
      goLive: (from, epoch) => this.goLive(from, epoch),
      halt: (reason) => this.halt(reason),
    });
    this.hooks = {
      issued: this.effects.onIssued,
      completed: this.effects.onCompleted,
      checkpoint: (c) => {
        this.replay.lastCheckpointFrame = c.frame;
      },
    };
  }

  get agent(): FtAgent | null {
    return this.driver.agent;
  }

  /** Disk reads this host did itself as a backup (backup-reads mode), checked by hash. */
  get backupReadCount(): number {
    return this.status.backupReadCount;
  }

  /** Boots (primary/backup) or waits for a clone (standby), then runs until halted or stopped. */
  async start(): Promise<void> {
    let init = this.ports.init;
    // From the start: booting (wasm instantiation, the first interpreter frames) is measured too.
    this.probe.start();
    if (init.role !== "standby") {
      this.doing("engine-start");
      this.engine = await this.ports.engines.boot(init.role === "primary" ? "record" : "replay", this.hooks);
      this.doing(null);
      const pair = startedAt(init, this.engine, this.ports.engines.bootConsole);
      init = pair;
      const t0 = this.scheduler.now();
      this.recorder = this.ports.engines.recorder(null);
      // Decodes the boot image's snapshot for its position: synchronous, and measured apart.
      this.probe.ran("recorder-start", this.scheduler.now() - t0);
      this.listen(this.engine);
      const hasPeer = pair.role === "backup" || pair.backup !== null;
      if (hasPeer) await this.link.rendezvous(pair.epoch);
    } else {
      await this.link.refreshStandbyEpoch();
    }
    if (this.stopped) return;
    this.driver.start(this.scheduler.now(), init);
    this.stallFeed.ticksFrom(this.scheduler.now());
    this.timers.push(
      this.scheduler.every(this.timing.tickMs, () => {
        this.link.standbyHeartbeat();
        const late = this.stallFeed.tick(this.scheduler.now());
        if (late !== null) this.feed({ type: "stalled", ms: late });
        this.feed({ type: "tick" });
      }),
      this.scheduler.every(this.timing.statusMs, () => this.reportStatus()),
    );
    this.reportStatus();
    this.loop.start();
  }

  attachChannel(peer: string, channel: LoggingChannel): void {
    this.link.attach(peer, channel);
  }

  /** A packet from the virtual network for this host's VM (only a live primary takes it). */
  packet(frame: Uint8Array): void {
    this.feed({ type: "packetReceived", frame });
  }

  client(msg: ClientMsg): void {
    this.feed({ type: "clientMessage", msg });
  }

  /** The cluster service asks a lone primary to restore redundancy on `target` (paper 3.1). */
  startClone(target: string): void {
    this.feed({ type: "startClone", target });
  }

  /** The cluster service saw `host` leave on purpose (a goodbye): a hint for the failure detector. */
  peerLeft(host: string): void {
    this.feed({ type: "peerLeft", host });
  }

  /**
   * Paper §3.3: the VM is powered off on purpose. A primary logs it as a control entry and halts;
   * its backup replays up to that entry and halts too instead of going live.
   */
  powerOff(): void {
    this.feed({ type: "powerOff" });
  }

  cutChannel(): void {
    this.link.cut();
    // Said at once: the page gets it after every packet this host transmitted before the cut.
    this.reportStatus();
  }

  /**
   * Teaching control: a host that is no longer live tries to write the disk anyway, at the
   * last epoch it held, as a zombie primary with a write in flight would. Fencing must refuse
   * it. It rewrites the disk's last sector with its own contents, so even a fencing bug could
   * not corrupt the guest's data.
   */
  async zombieWrite(): Promise<void> {
    const epoch = this.agent?.status().epoch ?? 0;
    const disk = this.ports.disk;
    const offset = disk.sizeBytes - 512;
    const ownCopy = this.ports.ft.diskMode === "non-shared";
    try {
      const same = await disk.read(offset, 512);
      await disk.write(offset, same, epoch);
      // Paper 4.1: a host's own copy is internal state, never fenced; only halting protects the VM.
      this.event({ kind: "zombie-write", epoch, accepted: true, ownCopy });
    } catch (e) {
      if (e instanceof StaleEpochError) this.event({ kind: "fenced", epoch, reason: e.message });
      // Non-shared: the live primary's cluster service deleted this halted host's copy as garbage.
      else this.event({ kind: "zombie-write", epoch, accepted: false, ownCopy, error: (e as Error).message });
    }
  }

  /**
   * Teaching control: fail-stop right after the VM produces the console line `line` and the
   * protocol has handled it (held it, or released it without the Output Rule). Stopping here,
   * inside the step that produced it, leaves the failure detectors nothing to race.
   */
  failAfterOutput(line: string): void {
    this.failAfter = new LineWatch(line, () => {
      this.failAfter = null;
      this.failStop(`right after its VM printed "${line}"`);
    });
  }

  get frozen(): boolean {
    return this.scheduler.frozen;
  }

  /**
   * The lecture's pause (true) and its end (false): the whole host stands still, not only its VM.
   * Its time stops (injected time does not count the frozen span, so no failure detector fires
   * because of it), no timer fires, the VM does not run, and whatever arrives meanwhile (log,
   * acks, heartbeats, client input, storage replies) waits and is fed in order at the thaw.
   * Every host of the cluster and the cluster service freeze together (src/cluster/controls.ts).
   */
  freezeWorld(on: boolean): void {
    if (on === this.scheduler.frozen) return;
    if (on) {
      this.scheduler.freeze();
      this.reportStatus();
      return;
    }
    this.scheduler.thaw();
    // The guest must not see the pause: a recording VM's clock continues from where it stood.
    if (this.engine?.mode === "record") this.engine.rebaseClock();
    for (const ev of this.frozenInbox.splice(0)) this.feed(ev);
    this.wake();
    this.reportStatus();
  }

  setVmPaused(paused: boolean): void {
    this.loop.setVmPaused(paused);
  }

  stepVm(): void {
    this.loop.stepVm();
  }

  setPace(pace: Pace): void {
    this.loop.setPace(pace);
  }

  /** Teaching control: a slow backup (its replay gets `factor` of the CPU). */
  setReplaySpeed(factor: number): void {
    this.loop.setReplaySpeed(factor);
  }

  setRemus(epochMs: number | null): void {
    this.status.setRemus(epochMs);
  }

  /**
   * The session recording as a file: where this VM started and every frame it has run since
   * (recorded, or replayed from the primary that preceded it). Only a live primary's covers up to
   * now; a backup's ends where the log it received ends.
   */
  recording(): Uint8Array {
    if (!this.recorder) throw new Error("no recording: this host has not started a VM");
    return this.recorder.encode(this.scheduler.wallNow());
  }

  /** The session recording listens to the engine from its first frame (a boot, or a restored clone). */
  private listen(engine: HostEngine): HostEngine {
    if (this.recorder) engine.observe(this.recorder);
    return engine;
  }

  stop(): void {
    this.stopped = true;
    this.engineInbox = [];
    this.frozenInbox = [];
    for (const t of this.timers) t.cancel();
    this.probe.stop();
    this.loop.stop();
    this.engine?.destroy();
    this.engine = null;
    this.link.close();
  }

  // ---- HostContext

  feed(ev: FtEvent): void {
    if (this.scheduler.frozen) {
      this.frozenInbox.push(ev);
      return;
    }
    this.driver.feed(ev);
    if (this.failAfter && ev.type === "outputProduced" && ev.kind === "console") this.failAfter.produced(ev.bytes);
  }

  withEngine(f: (engine: HostEngine) => void): void {
    if (this.engine) f(this.engine);
    else if (this.replay.restoring) this.engineInbox.push(f);
  }

  event(e: HostEvent): void {
    this.ports.events.event(e);
  }

  wake(): void {
    this.loop.wake();
  }

  reportStatus(): void {
    const t0 = this.scheduler.now();
    this.status.report();
    this.ranSince(t0, "status");
  }

  /**
   * The thread ran the VM since `start` without looking at the event loop: the peer's messages
   * wait behind it, and the peer hears nothing from us. The protocol forgives the first and
   * tells the peer about the second (stall-meter.ts). Fed before anything queued meanwhile.
   */
  stalledSince(start: number, what: StallSource): void {
    const ms = this.scheduler.now() - start;
    this.probe.ran(what, ms);
    const stall = this.stallFeed.section(this.scheduler.now(), ms);
    if (stall !== null) this.feed({ type: "stalled", ms: stall });
  }

  doing(what: StallSource | null): void {
    this.probe.doing(what);
  }

  ranSince(start: number, what: StallSource): void {
    this.probe.ran(what, this.scheduler.now() - start);
  }

  fail(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.event({ kind: "divergence", message });
    this.stop();
  }

  failStop(reason: string): void {
    // The last status first: the page takes a failed host's worker away on the event, and the
    // Figure shows the outputs this status still holds as lost with the host.
    this.reportStatus();
    this.event({ kind: "fail-stop", reason });
    this.stop();
  }

  private goLive(from: "primary" | "backup", epoch: number): void {
    // A backup whose clone is still being restored goes live once it exists (the protocol saw
    // nothing to replay: the primary failed right after the clone).
    if (from === "backup") this.withEngine((e) => e.promote());
    // Paper 2.3: the new primary's MAC is advertised, so the network (the page's switch) sends
    // the VM's packets to this host from now on.
    if (from === "backup") this.withEngine((e) => e.mac && this.ports.events.toNetwork?.(macAnnouncement(e.mac())));
    this.event({ kind: "go-live", epoch, from });
    this.wake();
  }

  private halt(reason: string): void {
    this.event({ kind: "halt", reason });
    this.reportStatus();
    this.stop();
  }
}

/** The agents of a pair start where their engines do: frame 0, or the boot image's position, guest time and console. */
function startedAt<I extends AgentInit & { role: "primary" | "backup" }>(init: I, engine: HostEngine, console: Uint8Array | undefined): I {
  const at = engine.position();
  if (at.frame === 0 && !console) return init;
  const position = pos(at.frame, at.icount);
  const printed = console ?? new Uint8Array(0);
  return {
    ...init,
    position,
    guestTime: engine.nowMs(),
    console: { produced: printed.length, clientAcked: 0, retained: printed, nextInputSeq: 0 },
  };
}
