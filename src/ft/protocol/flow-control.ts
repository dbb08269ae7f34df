/**
 * Paper 3.2: "if the primary VM encounters a full log buffer when it needs to write a log
 * entry, it must stop execution until log entries can be flushed out." The buffer here is
 * the set of records the backup has not acknowledged, measured in bytes, so a slow or
 * silent backup bounds the primary's memory instead of growing it without limit.
 * Hysteresis keeps the primary from pausing and resuming on every ack.
 *
 * The outputs the Output Rule holds are the same kind of buffer: they wait for the same acks,
 * and a transmitted packet is held whole while its log entry is a few bytes. So they are bounded
 * the same way (the paper's remedy, stopping the primary, rather than dropping outputs: a disk
 * write or console bytes cannot be dropped, and a slow backup would otherwise show the outside
 * world lost packets). The primary resumes when both buffers are below their resume marks.
 *
 * The backup side of flow control needs no object: it simply has no frame to replay until
 * the frame's log is complete (see backup.ts).
 */
/** What the page shows of flow control: the buffer that stopped the primary (null: it runs), and how often it did. */
export interface FlowPauseState {
  pausedBy: 'log' | 'held' | null;
  pauses: number;
}

export class FlowControl {
  paused = false;
  /** While paused: which buffer was over its bound when the primary stopped (what the page says). */
  pausedBy: 'log' | 'held' | null = null;
  /** Times the primary was stopped, since it started recording. */
  pauses = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly resumeBytes: number,
    private readonly maxHeldBytes = Number.POSITIVE_INFINITY,
    private readonly resumeHeldBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Returns 'pause' / 'resume' when the decision changes, null otherwise. */
  update(unackedBytes: number, heldBytes = 0): 'pause' | 'resume' | null {
    if (!this.paused && (unackedBytes > this.maxBytes || heldBytes > this.maxHeldBytes)) {
      this.paused = true;
      this.pausedBy = unackedBytes > this.maxBytes ? 'log' : 'held';
      this.pauses++;
      return 'pause';
    }
    if (this.paused && unackedBytes <= this.resumeBytes && heldBytes <= this.resumeHeldBytes) {
      this.paused = false;
      this.pausedBy = null;
      return 'resume';
    }
    return null;
  }

  /** Leaving recording mode: nothing is logged any more, so nothing can fill up. */
  clear(): 'resume' | null {
    if (!this.paused) return null;
    this.paused = false;
    this.pausedBy = null;
    return 'resume';
  }
}
