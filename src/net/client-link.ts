// The client's cable to the switch, with the faults a real network has (issue 13): a partition
// (the cable pulled), packet loss and delay, each way. The paper leans on these being normal
// (§2.2, §3.4: "the network infrastructure ... is designed to deal with lost packets"); the
// controls let a student see TCP absorb them, during a failover too. Loss is drawn from a seeded
// generator, so a run with the same seed and traffic drops the same packets.

export interface LinkSettings {
  /** false: the cable is pulled; every frame either way is dropped. */
  up: boolean;
  /** Percent of frames dropped, each way, independently. */
  lossPct: number;
  /** One-way delay added to every frame, in ms (order is kept: the delay is the same for all). */
  delayMs: number;
}

export interface LinkStats {
  /** Frames carried each way. */
  toSwitch: number;
  toClient: number;
  lost: number;
  /** Dropped because the cable was pulled. */
  cut: number;
  delayed: number;
}

export const LINK_OK: LinkSettings = { up: true, lossPct: 0, delayMs: 0 };

export class ClientLink {
  readonly stats: LinkStats = { toSwitch: 0, toClient: 0, lost: 0, cut: 0, delayed: 0 };
  private s: LinkSettings = { ...LINK_OK };
  private rng: number;

  constructor(
    /** Runs `fn` in `ms` (the page's clock). */
    private readonly after: (ms: number, fn: () => void) => void,
    seed = 0x5eed1,
  ) {
    this.rng = seed >>> 0 || 1;
  }

  get settings(): LinkSettings {
    return { ...this.s };
  }

  set(s: Partial<LinkSettings>): void {
    const next = { ...this.s, ...s };
    if (!(next.lossPct >= 0 && next.lossPct <= 100)) throw new RangeError(`loss must be 0–100 %, got ${next.lossPct}`);
    if (!(next.delayMs >= 0 && next.delayMs <= 10_000)) throw new RangeError(`delay must be 0–10000 ms, got ${next.delayMs}`);
    this.s = next;
  }

  /** A frame from the client towards the switch. */
  fromClient(frame: Uint8Array, deliver: (f: Uint8Array) => void): void {
    if (this.pass()) {
      this.stats.toSwitch++;
      this.carry(frame, deliver);
    }
  }

  /** A frame from the switch towards the client. */
  toClient(frame: Uint8Array, deliver: (f: Uint8Array) => void): void {
    if (this.pass()) {
      this.stats.toClient++;
      this.carry(frame, deliver);
    }
  }

  private pass(): boolean {
    if (!this.s.up) {
      this.stats.cut++;
      return false;
    }
    if (this.s.lossPct > 0 && this.next() * 100 < this.s.lossPct) {
      this.stats.lost++;
      return false;
    }
    return true;
  }

  private carry(frame: Uint8Array, deliver: (f: Uint8Array) => void): void {
    if (this.s.delayMs <= 0) return deliver(frame);
    this.stats.delayed++;
    // A cable pulled while the frame is on it loses the frame too.
    this.after(this.s.delayMs, () => (this.s.up ? deliver(frame) : void this.stats.cut++));
  }

  /** xorshift32 in [0, 1). */
  private next(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 4294967296;
  }
}
