import type { LockRecord } from "../storage/index.ts";
import type { Cancel, ClusterClock, ClusterStorage } from "./ports.ts";

const POLL_MS = 250;

/**
 * The lock record as the page shows it, peeked at through the storage API a few times a second.
 * For display only: who is live is decided by the hosts' test-and-set, never here.
 */
export class LockWatch {
  record: LockRecord | null = null;
  private cancel: Cancel | null = null;

  constructor(
    private readonly clock: ClusterClock,
    private readonly changed: () => void,
  ) {}

  start(storage: ClusterStorage): void {
    this.stop();
    this.cancel = this.clock.every(POLL_MS, () => void this.poll(storage));
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
    this.record = null;
  }

  private async poll(storage: ClusterStorage): Promise<void> {
    try {
      this.record = await storage.lock.peek();
      this.changed();
    } catch {
      /* the page's own view is best effort (its storage may be closing) */
    }
  }
}
