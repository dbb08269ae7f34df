/**
 * Which stalls of a host's thread the protocol hears of (the `stalled` event: its failure detector
 * forgives the silence, its peer is told). Two sources, never both for one stall: a section the
 * host timed (a long frame, a restore: `section`), and a tick that came late for something no
 * section reports (GC, the OS running other work, a long message: `tick`). After such a stall the
 * peer's messages from meanwhile are still queued, maybe behind the late tick itself: without
 * this, that tick would find the peer silent and start a failover the queued messages disprove.
 */
export class StallFeed {
  private lastTickAt = Infinity;
  private sectionAt = -Infinity;

  constructor(
    private readonly tickMs: number,
    private readonly stallMs: number,
  ) {}

  /** The ticks start (a host starts its protocol only once its engine runs): lateness counts from `now`. */
  ticksFrom(now: number): void {
    this.lastTickAt = now;
  }

  /** A timed section lasted `ms`: the stall to feed, or null when it was short. */
  section(now: number, ms: number): number | null {
    if (ms < this.stallMs) return null;
    this.sectionAt = now;
    return ms;
  }

  /** The protocol's tick is due: how late it came, if that is a stall no section reported. */
  tick(now: number): number | null {
    const late = now - this.lastTickAt - this.tickMs;
    const unreported = this.sectionAt <= this.lastTickAt;
    this.lastTickAt = now;
    return late >= this.stallMs && unreported ? late : null;
  }
}
