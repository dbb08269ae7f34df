import { describe, expect, it } from 'vitest';
import { OutputRule } from '../../../src/ft/protocol/output-rule';
import { FlowControl } from '../../../src/ft/protocol/flow-control';
import { LagControl } from '../../../src/ft/protocol/lag-control';
import { FailureDetector } from '../../../src/ft/protocol/failure-detector';
import { StallMeter } from '../../../src/ft/protocol/stall-meter';
import { GoLive } from '../../../src/ft/protocol/go-live';
import { LockStoreCore } from '../../../src/ft/protocol/lock-store';
import { LogReceiver, LogSender } from '../../../src/ft/protocol/logging-channel';
import { recordBytes, type LogRecord } from '../../../src/ft/protocol/messages';
import { comparePos, ORIGIN } from '../../../src/ft/protocol/types';
import { makeConfig } from '../../../src/ft/protocol/config';
import { bytes, pos } from './helpers';

describe('positions', () => {
  it('order by frame, then by 64-bit instruction count', () => {
    expect(comparePos(pos(1, 5), pos(2, 0))).toBe(-1);
    expect(comparePos({ frame: 3, icount: 2n ** 40n }, { frame: 3, icount: 2n ** 40n + 1n })).toBe(-1);
    expect(comparePos(pos(2, 7), pos(2, 7))).toBe(0);
    expect(comparePos(pos(2, 8), ORIGIN)).toBe(1);
  });
});

describe('Output Rule (paper 2.2)', () => {
  it('holds an output until the backup acknowledged a frame-end at or after its position', () => {
    const r = new OutputRule<string>();
    expect(r.produce(pos(3, 350), 'a')).toEqual([]);
    expect(r.produce(pos(4, 420), 'b')).toEqual([]);
    expect(r.onAcked(pos(3, 340))).toEqual([]); // before a's position
    expect(r.onAcked(pos(3, 360))).toEqual(['a']);
    expect(r.heldCount).toBe(1);
    expect(r.onAcked(pos(5, 0))).toEqual(['b']);
    expect(r.produce(pos(4, 500), 'c')).toEqual(['c']); // already covered by the ack
  });
  it('with backup disk reads, a write also waits for the backup to replay past it', () => {
    const r = new OutputRule<string>();
    expect(r.produce(pos(2), 'w', true)).toEqual([]);
    expect(r.onAcked(pos(9))).toEqual([]);
    expect(r.onReplayed(pos(1))).toEqual([]);
    expect(r.onReplayed(pos(2))).toEqual(['w']);
  });
  it('releases everything when the primary goes alone', () => {
    const r = new OutputRule<number>();
    r.produce(pos(1), 1);
    r.produce(pos(2), 2, true);
    expect(r.releaseAll()).toEqual([1, 2]);
    expect(r.heldCount).toBe(0);
  });
  it('disabled (test-only) releases immediately', () => {
    expect(new OutputRule<string>(false).produce(pos(1), 'x')).toEqual(['x']);
  });
});

describe('flow control (paper 3.2)', () => {
  it('pauses above the bound and resumes only below the lower mark', () => {
    const f = new FlowControl(1000, 400);
    expect(f.update(900)).toBeNull();
    expect(f.update(1001)).toBe('pause');
    expect(f.update(1200)).toBeNull();
    expect(f.update(600)).toBeNull();
    expect(f.update(400)).toBe('resume');
    expect(f.update(1001)).toBe('pause');
    expect(f.clear()).toBe('resume');
  });

  it('says which buffer stopped the primary and counts the stops (what the host card shows)', () => {
    const f = new FlowControl(1000, 400, 500, 200);
    expect([f.pausedBy, f.pauses]).toEqual([null, 0]);
    f.update(1001, 0);
    expect([f.pausedBy, f.pauses]).toEqual(['log', 1]);
    f.update(100, 100);
    expect([f.pausedBy, f.pauses]).toEqual([null, 1]);
    f.update(100, 501);
    expect([f.pausedBy, f.pauses]).toEqual(['held', 2]);
    f.clear();
    expect([f.pausedBy, f.pauses]).toEqual([null, 2]);
  });
});

describe('lag control (paper 3.2)', () => {
  it('slows the primary in proportion to the excess lag, gradually, and recovers', () => {
    const l = new LagControl(100, 0.1, 0.1, 10);
    l.onPrimaryProgress(1000);
    l.onBackupReport(950);
    expect(l.adjust(0)).toBeNull(); // within the bound
    l.onPrimaryProgress(1400); // lag 450 -> target 100/450
    expect(l.target()).toBeCloseTo(100 / 450);
    expect(l.adjust(5)).toBeNull(); // interval not elapsed
    expect(l.adjust(20)).toBeCloseTo(0.9);
    expect(l.adjust(30)).toBeCloseTo(0.8);
    for (let t = 40; t < 200; t += 10) l.adjust(t);
    expect(l.speed).toBeCloseTo(100 / 450);
    l.onBackupReport(1390); // caught up
    expect(l.adjust(300)).toBeCloseTo(100 / 450 + 0.1);
    for (let t = 310; t < 500; t += 10) l.adjust(t);
    expect(l.speed).toBe(1);
  });
  it('never goes below the minimum speed', () => {
    const l = new LagControl(10, 0.3, 1, 0);
    l.onPrimaryProgress(10_000);
    expect(l.adjust(1)).toBe(0.3);
  });
});

describe('failure detector (paper 2.3)', () => {
  it('declares failure only after a full timeout of silence', () => {
    const d = new FailureDetector(100, 0);
    expect(d.expired(100)).toBe(false);
    expect(d.expired(101)).toBe(true);
    d.heard(90);
    expect(d.expired(150)).toBe(false);
    expect(d.expired(191)).toBe(true);
    d.heard(50); // late, out-of-order report must not move the clock back
    expect(d.expired(191)).toBe(true);
  });

  it('forgives silence while our own host could not listen, beyond a scheduling allowance', () => {
    const d = new FailureDetector(100, 0);
    // A 500 ms frame: the peer's messages are queued behind it, so 480 ms of it are not silence.
    d.deaf(500, 500, 20);
    expect(d.expired(500)).toBe(false);
    expect(d.expired(120)).toBe(false);
    expect(d.expired(581)).toBe(true); // 20 of the frame + 81 of listening
    // Short frames are forgiven nothing: a dead peer is still noticed within the timeout.
    const e = new FailureDetector(100, 0);
    for (let t = 15; t <= 105; t += 15) e.deaf(t, 15, 20);
    expect(e.expired(105)).toBe(true);
  });

  it('adds the stall the peer reported to the timeout, and only the latest report counts', () => {
    const d = new FailureDetector(100, 0);
    d.heard(0, 400);
    expect(d.expired(450)).toBe(false);
    expect(d.expired(501)).toBe(true);
    d.heard(600, 0); // warmed up: back to the plain timeout
    expect(d.expired(701)).toBe(true);
    d.heard(800); // a message without a report keeps the last one
    expect(d.expired(901)).toBe(true);
    d.declareFailed();
    expect(d.expired(801)).toBe(true);
  });
});

describe('stall meter', () => {
  it('reports the longest stall of the recent window, then forgets it', () => {
    const m = new StallMeter(1000);
    expect(m.recentMax(0)).toBe(0);
    m.stalled(100, 700);
    m.stalled(300, 250.4);
    expect(m.recentMax(300)).toBe(700);
    expect(m.recentMax(1100)).toBe(700);
    expect(m.recentMax(1101)).toBe(250);
    expect(m.recentMax(1301)).toBe(0);
    m.stalled(1400, 0);
    expect(m.recentMax(1400)).toBe(0);
  });
});

describe('lock store: test-and-set and fencing', () => {
  it('lets exactly one contender move an epoch forward', () => {
    const s = new LockStoreCore({ owner: 'A#1', epoch: 1 });
    expect(s.testAndSet(1, 'B#1')).toEqual({ ok: true, record: { owner: 'B#1', epoch: 2 } });
    expect(s.testAndSet(1, 'A#1')).toEqual({ ok: false, reason: 'conflict', record: { owner: 'B#1', epoch: 2 } });
    // A retry after a lost reply recognises its own win.
    expect(s.testAndSet(1, 'B#1').ok).toBe(true);
    expect(s.lock).toEqual({ owner: 'B#1', epoch: 2 });
  });
  it('rejects writes from any epoch but the current one', () => {
    const s = new LockStoreCore({ owner: 'A#1', epoch: 1 }, 4);
    expect(s.writeBlock(0, bytes('aaaa'), 1)).toEqual({ ok: true });
    s.testAndSet(1, 'B#1');
    expect(s.writeBlock(0, bytes('zzzz'), 1)).toEqual({ ok: false, reason: 'stale-epoch' });
    expect(s.writeBlock(0, bytes('bbbb'), 2)).toEqual({ ok: true });
    expect(s.readBlock(0)).toEqual({ ok: true, data: bytes('bbbb') });
    expect(s.readBlock(5)).toEqual({ ok: true, data: new Uint8Array(4) });
  });
  it('unsafe switches really remove the checks', () => {
    const s = new LockStoreCore({ owner: 'A#1', epoch: 3 });
    expect(s.testAndSet(1, 'X', true).ok).toBe(true);
    expect(s.writeBlock(0, bytes('x'), 1, false).ok).toBe(true);
  });
});

describe('go-live (paper 2.3)', () => {
  let ids = 0;
  const next = () => ++ids;
  it('wins only with the store, halts on conflict, waits and retries when unreachable', () => {
    const g = new GoLive('B#1', 4, 10, false, next);
    const r1 = g.request(0);
    expect(r1).toMatchObject({ expectEpoch: 4, owner: 'B#1', force: false });
    expect(g.onResult(r1.reqId, { ok: false, reason: 'unavailable' }, 0)).toBeNull();
    expect(g.tick(5, 1000)).toBeNull();
    const r2 = g.tick(10, 1000)!;
    expect(r2.reqId).not.toBe(r1.reqId);
    expect(g.onResult(r1.reqId, { ok: true, record: { owner: 'B#1', epoch: 5 } }, 11)).toBeNull(); // stale reply
    expect(g.onResult(r2.reqId, { ok: true, record: { owner: 'B#1', epoch: 5 } }, 12)).toEqual({ outcome: 'won', epoch: 5 });
  });
  it('loses to another owner', () => {
    const g = new GoLive('A#1', 4, 10, false, next);
    const r = g.request(0);
    expect(g.onResult(r.reqId, { ok: false, reason: 'conflict', record: { owner: 'B#1', epoch: 5 } }, 1)).toEqual({ outcome: 'lost', epoch: 5 });
  });
  it('re-sends when a reply never comes', () => {
    const g = new GoLive('A#1', 1, 10, false, next);
    g.request(0);
    expect(g.tick(50, 100)).toBeNull();
    expect(g.tick(100, 100)).not.toBeNull();
  });
});

describe('logging channel', () => {
  const entry = (p: number, n: number) => ({ kind: 'entry' as const, position: pos(p), bytes: new Uint8Array(n) });
  it('counts unacked bytes and tracks the acknowledged frame-end', () => {
    const s = new LogSender(1);
    s.append(entry(1, 10));
    s.append({ kind: 'frame-end', position: pos(1), guestTime: 2 });
    s.append(entry(2, 30));
    expect(s.unackedBytes).toBe(16 + 10 + 16 + 16 + 30);
    expect(s.takeUnsent(0).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(s.takeUnsent(0)).toEqual([]);
    expect(s.ack(1)).toBe(false);
    expect(s.ack(2)).toBe(true);
    expect(s.ackedThrough).toEqual(pos(1));
    expect(s.unackedBytes).toBe(46);
    expect(s.ack(99)).toBe(false); // clamped: never beyond what was sent
    expect(s.ackedSeq).toBe(3);
    expect(s.unackedBytes).toBe(0);
  });
  it('retransmits the oldest unacked records even while new ones keep flowing', () => {
    const s = new LogSender(1);
    s.append(entry(1, 1));
    s.takeUnsent(0);
    for (let t = 1; t < 20; t++) {
      s.append(entry(t + 1, 1));
      s.takeUnsent(t);
      expect(s.retransmit(t, 20, 100)).toEqual([]);
    }
    const again = s.retransmit(20, 20, 5);
    expect(again.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(s.retransmit(25, 20, 5)).toEqual([]);
  });
  it('the receiver reassembles reordered and duplicated records into one in-order stream', () => {
    const recs: LogRecord[] = [1, 2, 3, 4, 5].map((seq) => ({ kind: 'entry', seq, position: pos(seq), bytes: new Uint8Array(1) }));
    const r = new LogReceiver(1);
    expect(r.accept([recs[1]!, recs[2]!]).map((x) => x.seq)).toEqual([]);
    expect(r.accept([recs[0]!, recs[0]!]).map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(r.accept([recs[2]!, recs[4]!, recs[3]!]).map((x) => x.seq)).toEqual([4, 5]);
    expect(r.contiguousSeq).toBe(5);
    expect(recordBytes(recs[0]!)).toBe(17);
  });
});

describe('config', () => {
  it('rejects inconsistent timeouts', () => {
    expect(() => makeConfig({ heartbeatIntervalMs: 100, failureTimeoutMs: 50 })).toThrow();
    expect(() => makeConfig({ maxUnackedLogBytes: 10, resumeUnackedLogBytes: 20 })).toThrow();
  });
});
