/**
 * The simulated world of one run: three machines, each with a tab running the real cluster
 * service (src/cluster, sim-cluster.ts) whose host runs the real host driver (src/host) on a toy
 * engine; a lossy, reordering, partitionable network; shared storage holding the lock record
 * and the disk; a client terminal (the outside world). It injects the scenario's faults, plays
 * the operator (a crashed machine comes back with a new tab, a tab whose host halted is
 * reloaded) and checks the invariants (online where possible, the rest at the end: final-checks.ts).
 */
import { makeConfig, type FtConfig, type UnsafeFlags } from "../ft/protocol/config.ts";
import { ConsoleClient } from "../ft/protocol/console-stream.ts";
import type { ClientMsg, FtAction, FtEvent, ToClientMsg } from "../ft/protocol/index.ts";
import type { HostEvent } from "../host/events.ts";
import { FeedOrderCheck, OutputRuleCheck, PowerOffCheck, SplitBrainCheck, StateCheck } from "./checks.ts";
import { EventQueue } from "./event-queue.ts";
import { finalChecks } from "./final-checks.ts";
import { Rng } from "./rng.ts";
import type { Scenario } from "./scenario.ts";
import { SimBus } from "./sim-bus.ts";
import { PageTimers, SimMember } from "./sim-cluster.ts";
import { SimNetwork } from "./sim-network.ts";
import { PacketClient } from "./sim-packets.ts";
import type { SimNode } from "./sim-node.ts";
import { SimStorage } from "./sim-storage.ts";
import type { ToyEngine } from "./toy-engine.ts";
import { LIVENESS_BOUND_MS, newStats, SETTLE_MS, SIM_FT, type RunStats } from "./sim-config.ts";

export { LIVENESS_BOUND_MS, REDUNDANCY_BOUND_MS, type RunStats } from "./sim-config.ts";

export class World {
  readonly q: EventQueue;
  readonly rng: Rng;
  readonly cfg: FtConfig;
  /** Every host by id, and the current one of each machine by name. */
  readonly nodes = new Map<string, SimNode>();
  readonly byName = new Map<string, SimNode>();
  /** The current tab (cluster member) of each machine. */
  readonly members = new Map<string, SimMember>();
  readonly storage: SimStorage;
  readonly net: SimNetwork;
  readonly bus: SimBus;
  readonly pageTimers: PageTimers;
  readonly client = new ConsoleClient(4);
  /** The client's packets, in runs that have them (scenario.packets). */
  readonly packets: PacketClient | null;
  readonly violations: string[] = [];
  readonly traceLines: string[] | null;
  readonly stats: RunStats = newStats();
  clientProgressAt = 0;
  clientLenAtBound = -1;
  private finalizing = false;
  private readonly split: SplitBrainCheck;
  private readonly states: StateCheck;
  private readonly outputRule: OutputRuleCheck;
  private readonly feedOrder: FeedOrderCheck;
  private readonly powerOffs: PowerOffCheck;
  /** A tab started the VM (its primary exists). */
  private vmStarted = false;
  /** Tabs opened so far per machine: the next one's id. */
  private tabs = new Map<string, number>();

  constructor(
    readonly sc: Scenario,
    unsafe: UnsafeFlags = {},
    trace = false,
  ) {
    this.q = new EventQueue((e) => this.violation(`exception: ${(e as Error).stack ?? e}`));
    this.rng = new Rng(sc.seed ^ 0x5eed);
    const netRng = this.rng.fork();
    const storageRng = this.rng.fork();
    const busRng = this.rng.fork();
    this.cfg = makeConfig({
      ...SIM_FT,
      maxUnackedLogBytes: sc.maxUnackedLogBytes,
      resumeUnackedLogBytes: sc.maxUnackedLogBytes >> 1,
      diskMode: sc.diskMode,
      readMode: sc.readMode,
      unsafe,
    });
    this.traceLines = trace ? [] : null;
    const violation = (s: string) => this.violation(s);
    this.split = new SplitBrainCheck(violation);
    this.states = new StateCheck(violation);
    this.outputRule = new OutputRuleCheck(violation, { shared: sc.diskMode === "shared", backupReads: sc.readMode === "backup-reads" }, this.stats);
    this.feedOrder = new FeedOrderCheck(violation);
    this.powerOffs = new PowerOffCheck(violation, this.stats, (line) => this.trace(line), () => this.q.now);
    this.storage = new SimStorage(
      sc,
      storageRng,
      this.cfg.unsafe,
      {
        landed: (node, block, _data, epoch, stale) => {
          if (stale) this.violation(`stale-epoch write landed: ${node.id} epoch ${epoch} < ${this.storage.store.lock.epoch}, block ${block}`);
          this.split.effect(epoch, node.id, () => `disk write block ${block}`);
        },
        trace: (line) => this.traceLines && this.trace(line()),
      },
      this.q,
    );
    this.net = new SimNetwork(sc, netRng, this.q, busRng);
    this.bus = new SimBus(this.net);
    this.pageTimers = new PageTimers(this.q);
    this.packets = sc.packets ? new PacketClient({ ...sc, packets: sc.packets }, this.q, () => this.byName.values()) : null;
  }

  trace(s: string): void {
    if (this.traceLines) this.traceLines.push(`${this.q.now.toFixed(2).padStart(8)}ms  ${s}`);
  }

  /** Online checks report at most 20; the end-of-run checks always get theirs in. */
  violation(s: string): void {
    if (this.violations.length < 20 || this.finalizing) this.violations.push(`@${this.q.now.toFixed(2)}ms ${s}`);
    this.trace(`VIOLATION: ${s}`);
  }

  // ---- machines, tabs and hosts ---------------------------------------------------------

  /** The operator opens a tab on machine `name`: a new member of the cluster. */
  private openTab(name: string, autoStart: boolean): void {
    const n = (this.tabs.get(name) ?? 0) + 1;
    this.tabs.set(name, n);
    const member = new SimMember(this, name, `${name}${n}`, autoStart);
    this.stats.tabs++;
    this.members.set(name, member);
    member.open();
  }

  /** A tab's cluster service started a host (spawnSimHost): it is the machine's host now. */
  addHost(node: SimNode, role: string): void {
    if (role === "primary") this.vmStarted = true;
    this.nodes.set(node.id, node);
    this.byName.set(node.name, node);
    this.trace(`${node.id} starts as ${role}`);
  }

  /** A tab's cluster service pulled a host's plug (a tab closing, a failed host taken out). */
  killHost(node: SimNode, why: string): void {
    if (!node.alive) return;
    node.thread.alive = false;
    this.trace(`${node.id} killed: ${why}`);
    this.q.after(0, () => node.host.stop());
  }

  /** Machine `name` crashes: its host and its tab stop at once (a tab may get its goodbye out). */
  crashMachine(name: string): void {
    const node = this.byName.get(name);
    if (node?.alive) {
      node.thread.alive = false;
      this.trace(`${node.id} crashed (${node.host.agent?.role ?? "starting"}/${node.host.agent?.status().state ?? "-"})`);
      this.q.after(0, () => node.host.stop());
    }
    const m = this.members.get(name);
    if (m?.alive) {
      this.trace(`${m.id} crashed${this.sc.goodbyes ? ", saying goodbye" : ""}`);
      m.crash(this.sc.goodbyes);
    }
  }

  /** Every event a host feeds its agent. */
  fed(node: SimNode, ev: FtEvent): void {
    if (node.alive) this.feedOrder.fed(node, ev);
  }

  /** Every protocol action of every host, just before the host performs it. */
  performing(node: SimNode, a: FtAction): void {
    if (!node.alive) return;
    if (node.crashAfterActions === 0) {
      this.trace(`${node.id} CRASH in the middle of a step (before ${a.type})`);
      this.crashMachine(node.name);
      return;
    }
    if (node.crashAfterActions > 0) node.crashAfterActions--;
    if (a.type === "stateChanged") node.stateSince = this.q.now;
    this.powerOffs.performing(node, a);
    if (a.type === "transmitPacket") {
      this.stats.packetsOut++;
      this.split.effect(a.epoch, node.id, () => "packet");
    }
    this.outputRule.performing(node, a);
    if (a.type === "setSpeed" && a.factor < 1) this.stats.slowdowns++;
    if (!this.traceLines) return;
    if (a.type === "goLive") this.trace(`${node.id} GO LIVE epoch ${a.epoch} (was ${a.from}) at frame ${node.engine?.vm.frame ?? "-"}`);
    else if (a.type === "halt") this.trace(`${node.id} HALT: ${a.reason}`);
    else if (a.type === "reissueDiskIo") this.trace(`${node.id} reissue ${a.io.kind} io${a.io.ioId} block ${a.io.block} (epoch ${a.epoch})`);
    else if (a.type === "snapshotForClone") this.trace(`${node.id} snapshot for clone ${a.cloneId}`);
    else if (a.type === "restoreSnapshot") this.trace(`${node.id} restores clone ${a.clone.cloneId} from ${a.clone.primary} at frame ${a.clone.position.frame}`);
    else if (a.type === "stateChanged") this.trace(`${node.id} ${a.role}/${a.state} epoch ${a.epoch}`);
  }

  hostEvent(node: SimNode, e: HostEvent): void {
    if (!node.alive) return;
    switch (e.kind) {
      case "go-live":
        if (e.from === "backup") this.stats.failovers++;
        return;
      case "flow-control":
        this.stats.pauses++;
        return;
      case "halt":
      case "fail-stop":
        node.halted = true;
        if (e.kind === "halt") this.stats.halts++;
        if (e.kind === "fail-stop") this.trace(`${node.id} FAIL-STOP: ${e.reason}`);
        // Terminal (the tab shows its host halted, or failed): the operator reloads the tab,
        // and the machine comes back as a standby.
        this.q.after(30, () => {
          const tab = this.members.get(node.name);
          if (this.byName.get(node.name) !== node || !tab?.alive) return;
          tab.close();
          this.openTab(node.name, false);
        });
        return;
      case "divergence":
      case "channel-error":
        this.violation(`${node.id} ${e.kind}: ${e.message}`);
        return;
      default:
        return;
    }
  }

  frameRun(node: SimNode, engine: ToyEngine, digest: number): void {
    if (!node.alive) return;
    if (engine.mode === "record") {
      this.stats.frames++;
      this.states.recorded(node.id, engine.vm.frame, digest);
    } else {
      this.stats.replayedFrames++;
      const primary = node.host.agent?.backup?.primary;
      if (primary) this.states.replayed(node.id, primary, engine.vm.frame, digest);
    }
  }

  // ---- client --------------------------------------------------------------------------

  toClient(node: SimNode, msg: ToClientMsg): void {
    if (!node.alive) return;
    this.split.effect(msg.epoch, node.id, () => (msg.t === "console" ? `console@${msg.offset}+${msg.bytes.length}` : `input-ack ${msg.nextSeq}`));
    this.net.send(node, "client", () => this.clientReceive(msg));
  }

  /** A packet a host put on the network: the client's. */
  toNetwork(node: SimNode, frame: Uint8Array): void {
    if (node.alive) this.packets?.transmitted(node, frame);
  }

  private clientReceive(msg: ToClientMsg): void {
    const before = this.client.length;
    const conflictsBefore = this.client.conflicts;
    this.client.onMessage(msg);
    if (this.client.conflicts > conflictsBefore) {
      this.violation(`client received bytes at offset ${msg.t === "console" ? msg.offset : "?"} from ${msg.from} that contradict what it already holds`);
    }
    if (this.client.length > before) this.clientProgressAt = this.q.now;
  }

  private clientSend(msg: ClientMsg): void {
    for (const node of this.byName.values()) if (node.alive) this.net.send("client", node, () => node.host.client(msg));
  }

  private clientLoop(): void {
    for (const m of this.client.tick(this.q.now)) this.clientSend(m);
    this.q.after(4, () => this.clientLoop());
  }

  /** A long frame: the host's next frame takes `ms` more (a standby's thread just hangs). */
  private stall(node: SimNode | undefined, ms: number): void {
    if (!node?.alive || node.halted) return;
    this.trace(`${node.id} stalls for ${ms.toFixed(1)} ms`);
    this.stats.stalls++;
    const engine = node.engine;
    if (engine) engine.stallNext = Math.max(engine.stallNext, ms);
    else node.thread.burn(ms);
  }

  // ---- run -----------------------------------------------------------------------------------

  async run(): Promise<void> {
    const sc = this.sc;
    // Three tabs open together, each allowed to start the VM (the product's default): exactly one
    // may; the others join as standbys and the cluster service makes one the backup by FT VMotion.
    this.openTab("A", true);
    this.openTab("B", true);
    this.openTab("C", true);
    this.q.after(0, () => this.clientLoop());
    this.packets?.start();
    let typed = 0;
    for (const t of sc.typing) this.q.at(t, () => this.clientSend(this.client.type(new TextEncoder().encode(`k${typed++}`))));
    for (const p of sc.partitions) this.q.at(p.from, () => this.trace(`net: partition ${p.a} ${p.oneWay ? "->" : "<->"} ${p.b} until ${p.to.toFixed(1)}`));
    // A wrong goodbye: the other tabs hear a goodbye from a tab that runs on.
    for (const g of sc.falseGoodbyes) {
      this.q.at(g.at, () => {
        const m = this.members.get(g.host);
        if (!m?.alive) return;
        this.trace(`cluster: a false goodbye of ${m.id}`);
        this.bus.send(m, { t: "bye", tab: m.id });
      });
    }
    for (const st of sc.stalls) this.q.at(st.at, () => this.stall(this.byName.get(st.host), st.ms));
    for (const o of sc.storage.outages) this.q.at(o.from, () => this.trace(`storage: unavailable until ${o.to.toFixed(1)}`));
    for (const c of sc.crashes) this.q.at(c.at, () => this.crash(c));
    if (sc.powerOff !== null) this.q.at(sc.powerOff, () => this.powerOff());
    await this.q.run(sc.healAt);
    this.trace("--- all faults healed ---");
    // What was in flight at healAt lands first (a dead host's test-and-set may still win).
    await this.q.run(sc.healAt + SETTLE_MS);
    let vmSurvives = this.vmHolders().length > 0;
    await this.q.run(sc.healAt + LIVENESS_BOUND_MS);
    // A VM powered off on purpose does not survive (its backup may still be replaying up to the
    // entry at the settling time above, and halt only then); one started after it may.
    if (this.powerOffs.vm !== null) vmSurvives = this.vmHolders().some((n) => n.vm !== this.powerOffs.vm);
    this.stats.lost = !vmSurvives;
    this.clientLenAtBound = this.client.length;
    if (this.packets) this.packets.repliesAtBound = this.packets.replies.size;
    if (vmSurvives && !this.livePrimary()) this.violation(`no live primary ${LIVENESS_BOUND_MS}ms after healing although a VM survived`);
    await this.q.run(sc.endAt);
    this.powerOffs.atEnd(this.vmHolders());
    this.stats.messages = this.net.messages;
    this.finalizing = true;
    finalChecks(this, vmSurvives);
  }

  /**
   * Paper 3.3: the operator powers the VM off with the Power off control of the tab whose host is
   * the live primary (as the tab sees it), the first moment there is one.
   */
  private powerOff(): void {
    const p = this.livePrimary();
    const tab = p && this.members.get(p.name);
    if (!p || !tab?.alive || tab.svc.hosts.livePrimary()?.id !== p.id) {
      if (this.q.now < this.sc.healAt) this.q.after(2, () => this.powerOff());
      return;
    }
    this.stats.powerOffs++;
    this.trace(`operator: power off through ${tab.id} (primary ${p.id})`);
    tab.svc.controls.powerOff();
  }

  private crash(c: Scenario["crashes"][number]): void {
    const tab = this.members.get(c.host);
    if (!tab?.alive) return;
    const node = this.byName.get(c.host);
    if (c.afterActions > 0 && node?.alive) {
      node.crashAfterActions = c.afterActions;
      this.trace(`${node.id} will crash after ${c.afterActions} more actions`);
      // An idle host may perform no actions for a long time; faults must stop at healAt.
      this.q.at(Math.min(c.at + 10, this.sc.healAt - 0.01), () => {
        if (node.alive && node.crashAfterActions >= 0) this.crashMachine(c.host);
      });
    } else {
      this.crashMachine(c.host);
    }
    // The machine comes back: a new tab joins the cluster as a standby.
    const restart = (): void => {
      // It may start the VM only if it was to and none ever started (one VM per run: a tab
      // that starts another while one runs unheard would be a new VM, not a failover).
      if (this.members.get(c.host) === tab && !tab.alive) this.openTab(c.host, tab.svc.options.autoStart && !this.vmStarted);
    };
    this.q.after(c.restartAfter, () => (tab.alive ? this.q.after(5, restart) : restart()));
  }

  /**
   * Hosts holding a copy of the VM that can still become (or is) the live primary. A copy
   * whose epoch is behind the lock record can never win again: whoever moved the epoch may
   * have released output it does not have. If that winner died too, the VM is lost (a
   * double failure, outside what FT promises), and the run only checks safety.
   */
  private vmHolders(): SimNode[] {
    return [...this.byName.values()].filter((n) => {
      const s = n.host.agent?.status();
      if (!n.alive || n.halted || !s) return false;
      return s.role !== "standby" && s.state !== "halted" && s.epoch === this.storage.store.lock.epoch;
    });
  }

  /** Some host still runs the VM of this disk (a primary or backup neither halted nor dead). */
  runsSomewhere(vm: string): boolean {
    return [...this.nodes.values()].some((n) => {
      const s = n.alive && !n.halted && n.vm === vm ? n.host.agent?.status() : undefined;
      return s !== undefined && s.role !== "standby" && s.state !== "halted";
    });
  }

  livePrimary(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.byName.values()) {
      const p = n.host.agent?.primary;
      if (!n.alive || n.halted || !p || (p.state !== "alone" && p.state !== "recording")) continue;
      if (!best || p.epoch > best.host.agent!.primary!.epoch) best = n;
    }
    return best;
  }
}
