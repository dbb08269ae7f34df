import type { HostControl } from "../host/ft-api.ts";
import type { PageNoteKind } from "../host/events.ts";
import type { HostStatus } from "../host/status.ts";
import type { LocalHost, LocalHosts } from "./local-hosts.ts";

/**
 * The failure and teaching controls on this member's hosts. Controls aimed at a role act on the
 * live host in that role (never a halted former primary); the others name their host.
 */
export class Controls {
  storageAvailable = true;
  /** Remus meter epoch (ms) while it is on, else null. */
  remusEpochMs: number | null = null;
  private readonly remusAsked = new Set<string>();

  constructor(
    private readonly hosts: LocalHosts,
    private readonly note: (hostId: string, kind: PageNoteKind, text: string) => void,
    /** Something changed: the controls' own state, or (a kill) the hosts themselves. */
    private readonly changed: (part?: "hosts") => void,
  ) {}

  kill(id: string): void {
    if (!this.hosts.kill(id)) return;
    this.note(id, "kill", "worker terminated: this host has failed (fail-stop)");
    // A dead host reports nothing any more: the page must not wait for a status to show it.
    this.changed("hosts");
    this.changed();
  }

  /** Teaching control: host `id` fail-stops right after its VM prints `line` (see HostControl). */
  failAfterOutput(id: string, line: string): void {
    this.hosts.get(id)?.handle.control({ t: "fail-after-output", line });
  }

  /** Paper §3.3: power the VM off through its live primary (a control entry in the log, not a failure). */
  powerOff(): void {
    const p = this.hosts.livePrimary();
    if (!p) return;
    this.note(p.id, "info", "power off: the primary logs it as a control entry and stops");
    p.handle.control({ t: "power-off" });
  }

  cutChannel(): void {
    for (const h of this.running()) h.handle.control({ t: "cut-channel" });
    this.note("page", "cut", "logging channel cut: both hosts keep running (split-brain attempt)");
  }

  setStorageAvailable(available: boolean): void {
    this.storageAvailable = available;
    for (const h of this.running()) h.handle.control({ t: "storage", available });
    this.note("page", "storage", available ? "shared storage reachable again" : "shared storage unreachable");
    this.changed();
  }

  /** Pause, step or pace the live primary's VM; the backup follows through the log, no host stops. */
  vm(c: Extract<HostControl, { t: "vm-pause" | "vm-step" | "vm-pace" }>): void {
    this.hosts.livePrimary()?.handle.control(c);
  }

  /**
   * Teaching control (the §3.2 tour): the live backup's replay gets `factor` of the CPU, a slow
   * backup host; 1 makes it fast again. Lag control on the primary is what answers it.
   */
  slowBackup(factor: number): void {
    this.hosts.liveBackup()?.handle.control({ t: "replay-speed", factor });
  }

  /** The live primary's session recording; rejects when no primary is live. */
  recording(): Promise<Uint8Array> {
    const p = this.hosts.livePrimary();
    return p ? p.handle.recording() : Promise.reject(new Error("no live primary to record from"));
  }

  /** Every halted host that is still running tries to write at its old epoch. */
  zombieWrite(): void {
    for (const h of this.running()) if (h.status?.state === "halted") h.handle.control({ t: "zombie-write" });
  }

  /** The lecture's pause: every host of this member stands still, and those spawned meanwhile (ClusterService.freezeWorld). */
  freezeWorld(on: boolean): void {
    this.hosts.frozen = on;
    for (const h of this.running()) h.handle.control({ t: "freeze-world", on });
  }

  /** Stall this member's host (a hung machine): no heartbeats, no log, nothing. */
  freeze(ms: number): void {
    const h = this.hosts.main;
    if (!h) return;
    this.note("page", "freeze", `host worker frozen for ${ms} ms`);
    h.handle.control({ t: "freeze", ms });
  }

  /**
   * The Remus meter (lockstep vs shipping state): the primary counts, every `epochMs`, the RAM
   * pages a Remus-style checkpoint would ship (src/host/remus-meter.ts). null turns it off.
   */
  setRemus(epochMs: number | null): void {
    this.remusEpochMs = epochMs;
    this.remusAsked.clear();
    for (const h of this.running()) {
      if (!h.status || (h.status.role !== "primary" && epochMs !== null)) continue;
      this.remusAsked.add(h.id);
      h.handle.control({ t: "remus", epochMs });
    }
    this.changed();
  }

  /** The Remus meter follows the primary role (a promoted backup starts measuring too). */
  onStatus(h: LocalHost, s: HostStatus): void {
    if (this.remusEpochMs === null || s.role !== "primary" || s.remus || this.remusAsked.has(h.id)) return;
    this.remusAsked.add(h.id);
    h.handle.control({ t: "remus", epochMs: this.remusEpochMs });
  }

  private running(): LocalHost[] {
    return this.hosts.all().filter((h) => !h.dead);
  }
}
