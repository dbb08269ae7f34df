import type { FreezableClock } from "./freezable-clock.ts";

/**
 * The lecture's pause (one page): the whole world stands still, not only the tour. Every host
 * of the member freezes (its VM, timers and failure detector stop; whatever reaches it waits)
 * and so do the service's timers; neither counts the frozen span afterwards, so nothing fails
 * over because of a pause. On the thaw the hosts start first, then the service's timers.
 */
export class WorldFreeze {
  /** frozenMs at the end of the last freeze (the note says how long each one lasted). */
  private frozenBefore = 0;

  constructor(
    private readonly clock: FreezableClock,
    private readonly hosts: (on: boolean) => void,
    private readonly note: (text: string) => void,
  ) {}

  get frozen(): boolean {
    return this.clock.frozen;
  }

  /** Freezes or thaws; false when it already was. */
  set(on: boolean): boolean {
    if (on === this.clock.frozen) return false;
    if (on) {
      this.clock.freeze();
      this.hosts(true);
      this.note("world frozen: both VMs, the hosts' timers and failure detectors stand still");
    } else {
      const before = this.clock.frozenMs;
      this.hosts(false);
      this.clock.thaw();
      this.note(`world running again after ${((before - this.frozenBefore) / 1000).toFixed(1)} s frozen (not counted by any timer)`);
      this.frozenBefore = before;
    }
    return true;
  }
}
