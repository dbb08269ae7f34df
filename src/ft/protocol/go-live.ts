/**
 * Paper 2.3: going live is guarded by an atomic test-and-set on shared storage. "If the
 * operation succeeds, the VM is allowed to go live. If the operation fails, then the other
 * VM must have already gone live, so the current VM actually halts itself. If the VM cannot
 * access the shared storage ... then it just waits until it can."
 *
 * This object only tracks one attempt; the caller (primary or backup) decides what winning
 * and losing mean for it. It never reports a win it did not get from the store, except under
 * the test-only `noTestAndSet` switch, which turns the operation into an unconditional set.
 */
import type { Epoch, HostId, Millis } from './types';
import type { TasResult } from './lock-store';

export interface TestAndSetRequest {
  type: 'testAndSet';
  reqId: number;
  expectEpoch: Epoch;
  owner: HostId;
  /** Test-only: set without testing (the unsafe "no test-and-set" switch). */
  force: boolean;
}

export type GoLiveOutcome = { outcome: 'won'; epoch: Epoch } | { outcome: 'lost'; epoch: Epoch } | null;

export class GoLive {
  state: 'pending' | 'waiting-retry' | 'won' | 'lost' = 'pending';
  private reqId: number;
  private retryAt = 0;
  private sentAt = 0;

  constructor(
    private readonly me: HostId,
    readonly expectEpoch: Epoch,
    private readonly retryMs: Millis,
    private readonly force: boolean,
    private nextReqId: () => number,
  ) {
    this.reqId = nextReqId();
  }

  request(now: Millis): TestAndSetRequest {
    this.sentAt = now;
    return { type: 'testAndSet', reqId: this.reqId, expectEpoch: this.expectEpoch, owner: this.me, force: this.force };
  }

  /** Feed a storage reply. Replies to superseded requests are ignored. */
  onResult(reqId: number, res: TasResult, now: Millis): GoLiveOutcome {
    if (reqId !== this.reqId || this.state !== 'pending') return null;
    if (res.ok) {
      this.state = 'won';
      return { outcome: 'won', epoch: res.record.epoch };
    }
    if (res.reason === 'conflict') {
      // A lost reply to our own earlier attempt looks like a conflict on an older store
      // implementation; the core treats owner+epoch equality as success, but be defensive.
      if (res.record.owner === this.me && res.record.epoch === this.expectEpoch + 1) {
        this.state = 'won';
        return { outcome: 'won', epoch: res.record.epoch };
      }
      this.state = 'lost';
      return { outcome: 'lost', epoch: res.record.epoch };
    }
    this.state = 'waiting-retry';
    this.retryAt = now + this.retryMs;
    return null;
  }

  /** Re-issue after the store was unreachable. Also re-issues when a reply never came:
   * the operation is idempotent for the same owner, so duplicates are harmless. */
  tick(now: Millis, replyTimeoutMs: Millis): TestAndSetRequest | null {
    if (this.state === 'waiting-retry' && now >= this.retryAt) {
      this.state = 'pending';
      this.reqId = this.nextReqId();
      return this.request(now);
    }
    if (this.state === 'pending' && now - this.sentAt >= replyTimeoutMs) {
      this.reqId = this.nextReqId();
      return this.request(now);
    }
    return null;
  }
}
