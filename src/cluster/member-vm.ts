import type { ClusterClock, ClusterStorage, ClusterTransport } from "./ports.ts";
import type { VmIdentity } from "./messages.ts";
import type { LocalHosts } from "./local-hosts.ts";
import type { Membership } from "./membership.ts";
import type { ClusterOptions, ClusterPart } from "./options.ts";
import { newVm } from "./new-vm.ts";
import { vmLost } from "./vm-lost.ts";

/** Held (shared) by every member of a running VM while it lives: see `MemberVm.start`. */
export const VM_LOCK = "lockstep-vm";

export interface MemberVmDeps {
  options: () => ClusterOptions;
  clock: ClusterClock;
  transport: ClusterTransport;
  hosts: LocalHosts;
  membership: Membership;
  /** Open while the member runs; null before start and after a restart's stop. */
  storage: () => ClusterStorage | null;
  /** Bumped by the service's restart: a boot still in flight from before stops there. */
  generation: () => number;
  clearDiskCopies: () => Promise<void>;
  changed: (part: ClusterPart) => void;
  beat: () => void;
  note: (text: string) => void;
}

/**
 * The VM this member is part of: learnt from a beat, booted here (the new-VM sequence), stood by
 * for (an empty standby host), or forgotten once lost. While part of one the member holds the
 * shared VM lock, which a member about to boot a VM reads.
 */
export class MemberVm {
  vm: VmIdentity | null = null;
  /**
   * Discovery ended with no VM known and this member may not start one: the first beat that
   * announces a VM makes it a standby (a tab opened with `?autostart=off` before the VM started,
   * or that heard nobody for a while, would otherwise show "joining as a standby host…" forever).
   */
  private awaiting = false;
  private lock: (() => void) | null = null;
  /**
   * Disks of VMs this member saw lost. Members see the loss one after another, and one that has
   * not yet still names the VM in its beats: a member that had forgotten it would learn it again,
   * stand by for it, find it lost again, and so on between the tabs without end (the simulator
   * found hundreds of standby workers started and dropped after one loss). Only a member whose
   * host runs the VM brings it back (a hung tab that speaks again).
   */
  private readonly lost = new Set<string>();

  constructor(private readonly d: MemberVmDeps) {}

  /** After discovery (tab mode): stand by for the VM heard of, else start one if allowed, else wait for one. */
  async afterDiscovery(): Promise<void> {
    if (this.vm) return this.standBy();
    if (!this.d.options().autoStart) {
      this.awaiting = true;
      return;
    }
    await this.start();
    if (this.vm && !this.d.hosts.main) this.standBy();
  }

  /**
   * A fresh VM in this member, unless one runs. Between tabs two members (opened at once, or two
   * Start VM presses) must not both start one: the decision is taken under the mutual start lock,
   * and reads the VM lock, which every member of a running VM holds, since the member that started
   * one may release the start lock before its beat reaches us (found by the simulator: two
   * primaries at epoch 1). The one page is a member alone: nobody to race.
   */
  async start(): Promise<void> {
    if (this.d.options().placement === "page") return this.boot();
    await this.d.transport.exclusive("lockstep-tabs-start", async () => {
      if (this.vm || this.d.hosts.main) return;
      if (await this.d.transport.isHeld(VM_LOCK)) {
        this.awaiting = true;
        return;
      }
      await this.boot();
    });
  }

  /** The new-VM sequence here: new disk, lock record at epoch 1 owned by its primary. */
  private async boot(): Promise<void> {
    const { hosts } = this.d;
    const storage = this.d.storage();
    if (!storage || hosts.main) return;
    const generation = this.d.generation();
    const options = this.d.options();
    const primaryId = hosts.nextId();
    const backupId = options.pair ? hosts.nextId() : null;
    const vm = await newVm(storage, options.diskMode, primaryId, this.d.clearDiskCopies, this.d.clock.wallNow());
    if (generation !== this.d.generation() || hosts.main) return;
    this.vm = { diskId: vm.diskId, diskMode: vm.diskMode };
    this.holdLock();
    const boot = { epoch: vm.epoch, sessionEpochMs: vm.sessionEpochMs };
    const primary = hosts.spawn(primaryId, "primary", vm, backupId ? { ...boot, peer: backupId } : boot);
    if (backupId) hosts.link(primary, hosts.spawn(backupId, "backup", vm, { ...boot, peer: primaryId }));
    this.d.changed("vm");
    this.d.changed("hosts");
    this.d.beat();
  }

  /** An empty host that waits for an FT VMotion (paper §3.1: a standby server). */
  standBy(): void {
    if (this.d.hosts.main || !this.vm) return;
    this.holdLock();
    this.d.hosts.spawn(this.d.hosts.nextId(), "standby", this.vm);
    this.d.changed("hosts");
    this.d.beat();
  }

  /**
   * Another member's beat names the VM it is part of (`runs`: its host runs it): ours too, and a
   * member waiting for one stands by.
   */
  heard(vm: VmIdentity | null, runs: boolean): void {
    if (!vm || this.vm) return;
    if (this.lost.has(vm.diskId) && !runs) return;
    this.lost.delete(vm.diskId);
    this.vm = vm;
    this.d.changed("vm");
    if (this.awaiting) {
      this.awaiting = false;
      this.standBy();
    }
  }

  /**
   * Tab mode: the VM's last running host is gone: say so, take out our standby, forget the VM and
   * its lock, and offer Start VM, never start one unasked (a new VM has a new disk: the class
   * should see the old one is lost). A member that speaks again makes us its standby (awaiting).
   */
  forgetIfLost(): void {
    const { hosts } = this.d;
    if (this.d.options().placement !== "tab" || !this.vm || !vmLost(hosts.all(), this.d.membership.others())) return;
    this.d.note(
      "the VM no longer runs on any host: it was powered off, or its primary failed while it ran alone and no backup had its state (FT survives one failure at a time). Start a new VM.",
    );
    for (const h of [...hosts.all()]) hosts.drop(h.id);
    this.lost.add(this.vm.diskId);
    this.vm = null;
    this.lock?.();
    this.lock = null;
    this.awaiting = true;
    this.d.changed("vm");
    this.d.changed("hosts");
  }

  /** This member is part of a running VM from now on, for as long as it lives. */
  private holdLock(): void {
    this.lock ??= this.d.transport.holdShared(VM_LOCK);
  }
}
