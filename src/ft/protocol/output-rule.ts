/**
 * Paper 2.2, the Output Rule: "the primary VM may not send an output to the external
 * world, until the backup VM has received and acknowledged the log entry associated with
 * the operation producing the output."
 *
 * Here an output produced at position P waits until the backup has acknowledged the
 * frame-end record of a frame ending at or after P. Only the output waits; the VM keeps
 * running (the paper's point against stopping the primary at each output).
 *
 * One extra condition (paper 4.2): with a shared disk and disk reads done by the backup, a
 * write must also wait until the backup has *replayed* past it, so that any earlier read
 * of the same block by the backup has already happened and cannot see the new data.
 */
import { comparePos, type Position } from './types';

export interface Held<T> {
  position: Position;
  /** Also wait until the backup's replay has reached `position`. */
  needsReplay: boolean;
  output: T;
}

export class OutputRule<T> {
  private held: Held<T>[] = [];
  private ackedThrough: Position | null = null;
  private replayedThrough: Position | null = null;
  private bytes = 0;

  /** `size`: an output's bytes, for flow control (held outputs are bounded like the log). */
  constructor(
    private readonly enabled = true,
    private readonly size: (o: T) => number = () => 0,
  ) {}

  get heldCount(): number {
    return this.held.length;
  }

  /** Bytes of the outputs held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Returns the outputs that may go out now (possibly the new one). */
  produce(position: Position, output: T, needsReplay = false): T[] {
    if (!this.enabled) return [output];
    this.held.push({ position, needsReplay, output });
    this.bytes += this.size(output);
    return this.releasable();
  }

  onAcked(through: Position): T[] {
    if (this.ackedThrough === null || comparePos(through, this.ackedThrough) > 0) this.ackedThrough = through;
    return this.releasable();
  }

  onReplayed(through: Position): T[] {
    if (this.replayedThrough === null || comparePos(through, this.replayedThrough) > 0) this.replayedThrough = through;
    return this.releasable();
  }

  /** The backup is gone and we won the test-and-set: nobody can take over, so nothing
   * needs to wait any more (a primary running alone releases at once). */
  releaseAll(): T[] {
    const out = this.held.map((h) => h.output);
    this.held = [];
    this.bytes = 0;
    return out;
  }

  /** A new backup starts acknowledging from scratch (clone). */
  resetAcks(): void {
    this.ackedThrough = null;
    this.replayedThrough = null;
  }

  private releasable(): T[] {
    const acked = this.ackedThrough;
    if (acked === null || this.held.length === 0) return [];
    const out: T[] = [];
    const keep: Held<T>[] = [];
    for (const h of this.held) {
      const ok =
        comparePos(h.position, acked) <= 0 &&
        (!h.needsReplay || (this.replayedThrough !== null && comparePos(h.position, this.replayedThrough) <= 0));
      if (ok) {
        out.push(h.output);
        this.bytes -= this.size(h.output);
      } else keep.push(h);
    }
    this.held = keep;
    return out;
  }
}
