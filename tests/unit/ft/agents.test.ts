/**
 * Primary and backup agents wired together by hand, to pin down each protocol step.
 */
import { describe, expect, it } from 'vitest';
import { FtAgent } from '../../../src/ft/protocol/agent';
import type { FtAction, FtEvent } from '../../../src/ft/protocol/api';
import type { ChannelMsg } from '../../../src/ft/protocol/messages';
import { blockHash } from '../../../src/ft/protocol/disk-io';
import { bytes, cfg, consoleReleased, ofType, pos } from './helpers';
import type { FtConfig } from '../../../src/ft/protocol/config';

function pair(c: FtConfig = cfg()) {
  const a = new FtAgent(c, 'A#1', { role: 'primary', epoch: 1, backup: 'B#1' }, 0);
  const b = new FtAgent(c, 'B#1', { role: 'backup', epoch: 1, primary: 'A#1' }, 0);
  return { a, b };
}

const sends = (acts: FtAction[]): ChannelMsg[] => ofType(acts, 'send').map((s) => s.msg);
function deliver(to: FtAgent, from: string, acts: FtAction[], now: number): FtAction[] {
  const out: FtAction[] = [];
  for (const m of sends(acts)) out.push(...to.step(now, { type: 'message', from, msg: m }));
  return out;
}

/** One primary frame: an optional console output, then the frame-end. */
function frame(a: FtAgent, now: number, f: number, out?: string, extra: FtEvent[] = []): FtAction[] {
  const acts: FtAction[] = [];
  if (out) acts.push(...a.step(now, { type: 'outputProduced', kind: 'console', position: pos(f, f * 100 + 50), bytes: bytes(out) }));
  for (const e of extra) acts.push(...a.step(now, e));
  acts.push(...a.step(now, { type: 'logEntriesProduced', entries: [{ position: pos(f, f * 100 + 10), bytes: new Uint8Array(8) }] }));
  acts.push(...a.step(now, { type: 'frameDone', position: pos(f, f * 100 + 99), guestTime: f * 10 }));
  return acts;
}

describe('primary in recording mode', () => {
  it('holds console output until the backup acks the frame, then releases it (Output Rule)', () => {
    const { a, b } = pair();
    const p1 = frame(a, 1, 1, 'hi');
    expect(consoleReleased(p1)).toBe('');
    const log = sends(p1).find((m) => m.t === 'log')!;
    expect(log.t === 'log' && log.records.map((r) => r.kind)).toEqual(['entry', 'frame-end']);
    const bActs = deliver(b, 'A#1', p1, 2);
    const replay = ofType(bActs, 'replay');
    expect(replay).toHaveLength(1);
    expect(replay[0]!.records).toHaveLength(2);
    const ack = sends(bActs).find((m) => m.t === 'ack')!;
    expect(ack).toMatchObject({ t: 'ack', ackSeq: 2, epoch: 1 });
    const released = deliver(a, 'B#1', bActs, 3);
    expect(consoleReleased(released)).toBe('hi');
    const rel = ofType(released, 'releaseOutput')[0]!.msg;
    expect(rel).toMatchObject({ t: 'console', offset: 0, epoch: 1, from: 'A#1' });
  });

  it('holds a shared-disk write until acked, and a client input ack too', () => {
    const { a, b } = pair();
    const acts = frame(a, 1, 1, undefined, [
      { type: 'outputProduced', kind: 'disk-write', position: pos(1, 150), ioId: 7, block: 3, data: bytes('dddd') },
      { type: 'inputApplied', position: pos(1, 100), seq: 0 },
    ]);
    expect(ofType(acts, 'writeBlock')).toEqual([]);
    expect(ofType(acts, 'releaseOutput')).toEqual([]);
    const rel = deliver(a, 'B#1', deliver(b, 'A#1', acts, 2), 3);
    expect(ofType(rel, 'writeBlock')).toEqual([{ type: 'writeBlock', ioId: 7, block: 3, data: bytes('dddd'), epoch: 1 }]);
    expect(ofType(rel, 'releaseOutput').map((r) => r.msg)).toEqual([{ t: 'input-ack', epoch: 1, from: 'A#1', nextSeq: 1 }]);
  });

  it('does not delay writes to a non-shared disk (paper 4.1)', () => {
    const { a } = pair(cfg({ diskMode: 'non-shared' }));
    const acts = a.step(1, { type: 'outputProduced', kind: 'disk-write', position: pos(1), ioId: 1, block: 0, data: bytes('x') });
    expect(ofType(acts, 'writeBlock')).toHaveLength(1);
  });

  it('pauses under flow control when the backup stops acknowledging, resumes on ack', () => {
    const { a, b } = pair(cfg({ maxUnackedLogBytes: 200, resumeUnackedLogBytes: 100 }));
    const all: FtAction[] = [];
    for (let f = 1; f <= 6; f++) all.push(...frame(a, f, f));
    expect(ofType(all, 'pauseExecution')).toHaveLength(1);
    const resumed = deliver(a, 'B#1', deliver(b, 'A#1', all, 7), 8);
    expect(ofType(resumed, 'resumeExecution')).toHaveLength(1);
  });

  it('slows down when the backup lags (lag control)', () => {
    const { a } = pair(cfg({ lagBoundMs: 20, lagAdjustIntervalMs: 1 }));
    for (let f = 1; f <= 10; f++) frame(a, f, f);
    a.step(20, { type: 'message', from: 'B#1', msg: { t: 'ack', epoch: 1, ackSeq: 0, replayed: pos(0), guestTime: 0, cloneId: 0, stallMs: 0 } });
    const acts = a.step(21, { type: 'tick' });
    const sp = ofType(acts, 'setSpeed');
    expect(sp).toHaveLength(1);
    expect(sp[0]!.factor).toBeLessThan(1);
  });

  it('backup silent: test-and-set, then alone releases held output at once', () => {
    const { a } = pair();
    const p1 = frame(a, 1, 1, 'held');
    expect(consoleReleased(p1)).toBe('');
    expect(ofType(a.step(50, { type: 'tick' }), 'testAndSet')).toEqual([]);
    const t = a.step(101, { type: 'tick' });
    const tas = ofType(t, 'testAndSet')[0]!;
    expect(tas).toMatchObject({ expectEpoch: 1, owner: 'A#1', force: false });
    expect(a.status().state).toBe('going-live');
    // While the test-and-set is pending, nothing leaves.
    expect(consoleReleased(frame(a, 102, 2, 'more'))).toBe('');
    const won = a.step(103, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: true, record: { owner: 'A#1', epoch: 2 } } } });
    expect(consoleReleased(won)).toBe('heldmore');
    expect(ofType(won, 'goLive')).toEqual([{ type: 'goLive', epoch: 2, from: 'primary' }]);
    expect(a.status()).toMatchObject({ state: 'alone', epoch: 2 });
    expect(consoleReleased(frame(a, 104, 3, 'now'))).toBe('now');
    expect(ofType(frame(a, 105, 4), 'send')).toEqual([]); // no logging when alone
  });

  it('losing the test-and-set halts the primary', () => {
    const { a } = pair();
    const tas = ofType(a.step(200, { type: 'tick' }), 'testAndSet')[0]!;
    const lost = a.step(201, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: false, reason: 'conflict', record: { owner: 'B#1', epoch: 2 } } } });
    expect(ofType(lost, 'halt')).toHaveLength(1);
    expect(a.status().state).toBe('halted');
    expect(a.step(202, { type: 'tick' })).toEqual([]);
  });

  it('fenced writes: redo own pre-epoch writes, halt when a newer primary exists', () => {
    const c = cfg({ diskMode: 'non-shared' });
    const a = new FtAgent(c, 'A#1', { role: 'primary', epoch: 3, backup: null }, 0);
    a.step(0, { type: 'outputProduced', kind: 'disk-write', position: pos(1), ioId: 1, block: 0, data: bytes('x') });
    const redo = a.step(1, { type: 'storageResult', result: { op: 'write', ioId: 1, epoch: 2, ok: false, reason: 'stale-epoch' } });
    expect(ofType(redo, 'writeBlock')).toEqual([{ type: 'writeBlock', ioId: 1, block: 0, data: bytes('x'), epoch: 3 }]);
    const fenced = a.step(2, { type: 'storageResult', result: { op: 'write', ioId: 1, epoch: 3, ok: false, reason: 'stale-epoch' } });
    expect(ofType(fenced, 'halt')).toHaveLength(1);
  });

  it('a write fenced while our own test-and-set is in flight is retried, not taken as deposition', () => {
    const { a, b } = pair();
    const acts = frame(a, 1, 1, undefined, [{ type: 'outputProduced', kind: 'disk-write', position: pos(1, 150), ioId: 3, block: 0, data: bytes('w') }]);
    expect(ofType(deliver(a, 'B#1', deliver(b, 'A#1', acts, 1), 2), 'writeBlock')).toHaveLength(1);
    const tas = ofType(a.step(200, { type: 'tick' }), 'testAndSet')[0]!;
    // The store already holds epoch 2 (ours), the reply is slow; the epoch-1 write bounces.
    const bounced = a.step(201, { type: 'storageResult', result: { op: 'write', ioId: 3, epoch: 1, ok: false, reason: 'stale-epoch' } });
    expect(ofType(bounced, 'halt')).toEqual([]);
    a.step(202, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: true, record: { owner: 'A#1', epoch: 2 } } } });
    const retried = a.step(215, { type: 'tick' });
    expect(ofType(retried, 'writeBlock')).toEqual([{ type: 'writeBlock', ioId: 3, block: 0, data: bytes('w'), epoch: 2 }]);
  });

  it('completes each I/O once even when storage replies twice, and retries when unavailable', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 1, backup: null }, 0);
    expect(ofType(a.step(0, { type: 'diskReadIssued', position: pos(1), ioId: 4, block: 2 }), 'readBlock')).toHaveLength(1);
    a.step(1, { type: 'storageResult', result: { op: 'read', ioId: 4, ok: false, reason: 'unavailable' } });
    expect(ofType(a.step(5, { type: 'tick' }), 'readBlock')).toHaveLength(0);
    expect(ofType(a.step(11, { type: 'tick' }), 'readBlock')).toHaveLength(1);
    const ok = { type: 'storageResult' as const, result: { op: 'read' as const, ioId: 4, ok: true as const, data: bytes('r') } };
    expect(ofType(a.step(12, ok), 'completeIo')).toEqual([{ type: 'completeIo', ioId: 4, data: bytes('r') }]);
    expect(ofType(a.step(13, ok), 'completeIo')).toEqual([]);
  });

  it('drops duplicate client input and resends console output the client lacks', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 1, backup: null }, 0);
    const inj = a.step(0, { type: 'clientMessage', msg: { t: 'client-input', seq: 0, bytes: bytes('x') } });
    expect(ofType(inj, 'injectInput')).toHaveLength(1);
    expect(ofType(a.step(1, { type: 'clientMessage', msg: { t: 'client-input', seq: 0, bytes: bytes('x') } }), 'injectInput')).toHaveLength(0);
    a.step(2, { type: 'outputProduced', kind: 'console', position: pos(1), bytes: bytes('abcdef') });
    const resend = a.step(20, { type: 'clientMessage', msg: { t: 'client-ack', consoleOffset: 2 } });
    expect(ofType(resend, 'releaseOutput').map((r) => r.msg)).toEqual([{ t: 'console', epoch: 1, from: 'A#1', offset: 2, bytes: bytes('cdef') }]);
  });

  it('power off travels in the log and stops the backup instead of failing over (paper 3.3)', () => {
    const { a, b } = pair();
    const acts = [...frame(a, 1, 1), ...a.step(2, { type: 'powerOff' })];
    expect(a.status().state).toBe('powering-off');
    const bActs = deliver(b, 'A#1', acts, 3);
    expect(ofType(bActs, 'halt')).toHaveLength(0); // the frame is not replayed yet
    // The backup acknowledged the entry: the primary halts, sure the backup will not go live.
    expect(ofType(deliver(a, 'B#1', bActs, 3), 'halt')).toEqual([{ type: 'halt', reason: 'powered off: the backup has the power-off entry and stops too' }]);
    const done = b.step(4, { type: 'frameDone', position: pos(1, 199), guestTime: 10 });
    expect(ofType(done, 'halt')).toEqual([{ type: 'halt', reason: 'primary powered off' }]);
    expect(ofType(b.step(500, { type: 'tick' }), 'testAndSet')).toEqual([]);
  });

  it('a backup whose thread was away past the timeout, its late tick run before the queued power-off entry: told of the stall, it waits for the queue and halts', () => {
    const run = (toldOfStall: boolean) => {
      const { a, b } = pair();
      deliver(b, 'A#1', frame(a, 1, 1), 2);
      b.step(3, { type: 'frameDone', position: pos(1, 199), guestTime: 10 });
      const acts = a.step(10, { type: 'powerOff' });
      // The backup's thread came back at 2000 (GC, the OS): its tick fell due first, the entry waits behind it.
      const out = toldOfStall ? b.step(2000, { type: 'stalled', ms: 1990 }) : [];
      out.push(...b.step(2000, { type: 'tick' }), ...deliver(b, 'A#1', acts, 2000), ...b.step(2001, { type: 'tick' }));
      return { out, state: b.status().state };
    };
    const told = run(true);
    expect(told.state).toBe('halted');
    expect(ofType(told.out, 'testAndSet')).toEqual([]);
    // Not told (a tick that came late without a word): it asked to go live, then the entry stopped it.
    const untold = run(false);
    expect(ofType(untold.out, 'testAndSet')).toHaveLength(1);
    expect(untold.state).toBe('halted');
  });

  it('a power-off entry that reaches a backup already going live stops it: the won test-and-set that comes back does not make it primary', () => {
    const { a, b } = pair();
    const acts = a.step(10, { type: 'powerOff' });
    const tas = ofType(b.step(2000, { type: 'tick' }), 'testAndSet')[0]!;
    expect(b.status().state).toBe('going-live');
    expect(ofType(deliver(b, 'A#1', acts, 2001), 'halt')).toEqual([{ type: 'halt', reason: 'primary powered off' }]);
    const late = b.step(2002, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: true, record: { owner: 'B#1', epoch: 2 } } } });
    expect(ofType(late, 'goLive')).toEqual([]);
    expect(b.status()).toMatchObject({ role: 'backup', state: 'halted' });
  });
});

describe('non-shared disk go-live', () => {
  it('does not re-issue a write already in flight to its own copy; that write\'s result completes it', () => {
    const { b } = pair(cfg({ diskMode: 'non-shared' }));
    const issued = b.step(1, { type: 'outputProduced', kind: 'disk-write', position: pos(1, 150), ioId: 7, block: 3, data: bytes('new!') });
    expect(ofType(issued, 'writeBlock')).toHaveLength(1);
    const tas = ofType(b.step(200, { type: 'tick' }), 'testAndSet')[0]!;
    const live = b.step(201, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: true, record: { owner: 'B#1', epoch: 2 } } } });
    expect(ofType(live, 'goLive')).toHaveLength(1);
    // A second copy in flight could land after the guest's next write to block 3 and undo it.
    expect(ofType(live, 'reissueDiskIo')).toEqual([]);
    const done = b.step(202, { type: 'storageResult', result: { op: 'write', ioId: 7, epoch: 1, ok: true } });
    expect(ofType(done, 'completeIo')).toEqual([{ type: 'completeIo', ioId: 7 }]);
  });
});

describe('a pair booted together', () => {
  it('tolerates silence for bootGraceMs (slow first frames), then times out as usual', () => {
    const { a, b } = pair(cfg({ bootGraceMs: 1000 }));
    // Far past the 100 ms failure timeout, but inside the grace: nobody goes for the lock.
    expect(ofType(a.step(900, { type: 'tick' }), 'testAndSet')).toEqual([]);
    expect(ofType(b.step(900, { type: 'tick' }), 'testAndSet')).toEqual([]);
    expect(b.status().state).toBe('replaying');
    expect(ofType(b.step(1001, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
    expect(ofType(a.step(1001, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
  });

  it('ends the grace early once the backup has replayed past the slow first frames', () => {
    const { a, b } = pair(cfg({ bootGraceMs: 1000, graceFrames: 3 }));
    // The backup counts its own replayed frames.
    b.step(10, { type: 'frameDone', position: pos(3), guestTime: 30 });
    expect(ofType(b.step(500, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
    // The primary runs ahead: its own frames say nothing; the backup's acks do.
    for (let f = 1; f <= 5; f++) frame(a, f, f);
    expect(ofType(a.step(300, { type: 'tick' }), 'testAndSet')).toEqual([]);
    a.step(400, { type: 'message', from: 'B#1', msg: { t: 'ack', epoch: 1, ackSeq: 0, replayed: pos(3), guestTime: 30, cloneId: 0, stallMs: 0 } });
    expect(ofType(a.step(450, { type: 'tick' }), 'testAndSet')).toEqual([]);
    expect(ofType(a.step(502, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
  });
});

describe('stalls (a host cannot send or receive inside a long frame)', () => {
  it("a backup's reported stall makes the primary wait that much longer, and no more", () => {
    const { a, b } = pair(cfg({ bootGraceMs: 0, stallWindowMs: 1000 }));
    // The backup ran a 300 ms interpreter frame; its next ack says so.
    b.step(300, { type: 'stalled', ms: 300 });
    const ack = sends(b.step(301, { type: 'tick' })).find((m) => m.t === 'ack')!;
    expect(ack).toMatchObject({ t: 'ack', stallMs: 300 });
    deliver(a, 'B#1', [{ type: 'send', to: 'A#1', msg: ack }], 302);
    expect(ofType(a.step(450, { type: 'tick' }), 'testAndSet')).toEqual([]); // plain timeout: 100 ms
    expect(ofType(a.step(702, { type: 'tick' }), 'testAndSet')).toEqual([]);
    expect(ofType(a.step(703, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
  });

  it("a host's own long frame is not the peer's silence; its heartbeats report it", () => {
    const { a, b } = pair(cfg({ bootGraceMs: 0, heartbeatIntervalMs: 10 }));
    // The primary ran one 500 ms frame; the tick that follows must not expire the backup.
    a.step(500, { type: 'stalled', ms: 500 });
    const acts = a.step(501, { type: 'tick' });
    expect(ofType(acts, 'testAndSet')).toEqual([]);
    const hb = sends(acts).find((m) => m.t === 'heartbeat')!;
    expect(hb).toMatchObject({ t: 'heartbeat', stallMs: 500 });
    // Listening again, a silent backup is declared failed one timeout (plus allowance) later.
    expect(ofType(a.step(611, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
    // The backup hears the report and is as patient with the primary.
    deliver(b, 'A#1', acts, 502);
    expect(ofType(b.step(1001, { type: 'tick' }), 'testAndSet')).toEqual([]);
    expect(ofType(b.step(1103, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
  });
});

describe('peer left (the cluster service saw the tab go)', () => {
  it('the backup drains and asks for go-live at once, without waiting out the failure timeout', () => {
    const { a, b } = pair();
    deliver(b, 'A#1', frame(a, 1, 1), 2);
    b.step(3, { type: 'frameDone', position: pos(1, 199), guestTime: 10 });
    expect(ofType(b.step(4, { type: 'tick' }), 'testAndSet')).toEqual([]);
    // Another host leaving is none of our business.
    expect(ofType(b.step(5, { type: 'peerLeft', host: 'C#1' }), 'testAndSet')).toEqual([]);
    expect(b.status().state).toBe('replaying');
    const acts = b.step(6, { type: 'peerLeft', host: 'A#1' });
    expect(ofType(acts, 'testAndSet')).toHaveLength(1); // 6 ms in: far below the 100 ms timeout
    expect(b.status().state).toBe('going-live');
  });

  it('the primary goes for the lock at once when its backup leaves; the lock still decides', () => {
    const { a } = pair();
    const acts = a.step(5, { type: 'peerLeft', host: 'B#1' });
    const tas = ofType(acts, 'testAndSet')[0]!;
    expect(a.status().state).toBe('going-live');
    // A wrong hint is only a false failure detection: losing the test-and-set halts it.
    const lost = a.step(6, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: false, reason: 'conflict', record: { owner: 'B#1', epoch: 2 } } } });
    expect(ofType(lost, 'halt')).toHaveLength(1);
  });
});

describe('backup', () => {
  it('replays only complete frames and acknowledges a received prefix', () => {
    const { a, b } = pair();
    const f1 = frame(a, 1, 1);
    const f2 = frame(a, 2, 2);
    const [m1, m2] = [sends(f1)[0]!, sends(f2)[0]!];
    // Reordered: frame 2 first. Nothing replayable, ack stays at 0.
    const r2 = b.step(3, { type: 'message', from: 'A#1', msg: m2 });
    expect(ofType(r2, 'replay')).toEqual([]);
    expect(sends(r2)[0]).toMatchObject({ t: 'ack', ackSeq: 0 });
    const r1 = b.step(4, { type: 'message', from: 'A#1', msg: m1 });
    expect(ofType(r1, 'replay')[0]!.records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(sends(r1)[0]).toMatchObject({ t: 'ack', ackSeq: 4 });
    // A partial frame (entries, no frame-end) is acknowledged but not replayable.
    const partial = b.step(5, {
      type: 'message',
      from: 'A#1',
      msg: { t: 'log', epoch: 1, clientAcked: 0, records: [{ kind: 'entry', seq: 5, position: pos(3), bytes: new Uint8Array(1) }] },
    });
    expect(ofType(partial, 'replay')).toEqual([]);
    expect(sends(partial)[0]).toMatchObject({ ackSeq: 5 });
  });

  it('ignores log from a stale epoch or from another host', () => {
    const { a, b } = pair();
    const m = sends(frame(a, 1, 1))[0]!;
    expect(b.step(1, { type: 'message', from: 'C#1', msg: m })).toEqual([]);
    expect(b.step(1, { type: 'message', from: 'A#1', msg: { ...m, epoch: 0 } as ChannelMsg })).toEqual([]);
  });

  it('primary fails: drains every acknowledged frame, wins the test-and-set, then goes live', () => {
    const { a, b } = pair();
    // Frames 1 and 2 arrive; output "x" was in frame 2 and the primary may have released it.
    b.step(1, { type: 'outputProduced', kind: 'console', position: pos(0), bytes: bytes('') });
    const rec = deliver(b, 'A#1', [...frame(a, 1, 1), ...frame(a, 2, 2, 'x')], 2);
    expect(ofType(rec, 'replay').flatMap((r) => r.records.map((x) => x.kind))).toEqual(['entry', 'frame-end', 'entry', 'frame-end']);
    // The engine replays frame 1 only, then the primary goes silent.
    b.step(3, { type: 'frameDone', position: pos(1, 199), guestTime: 10 });
    const drain = b.step(200, { type: 'tick' });
    expect(b.status().state).toBe('draining');
    expect(ofType(drain, 'testAndSet')).toEqual([]); // not before frame 2 is replayed
    // Replaying frame 2 reproduces the output, and an in-flight disk write.
    b.step(201, { type: 'outputProduced', kind: 'console', position: pos(2, 250), bytes: bytes('x') });
    b.step(201, { type: 'outputProduced', kind: 'disk-write', position: pos(2, 260), ioId: 9, block: 1, data: bytes('w') });
    b.step(201, { type: 'inputApplied', position: pos(2, 200), seq: 0 });
    const drained = b.step(202, { type: 'frameDone', position: pos(2, 299), guestTime: 20 });
    const tas = ofType(drained, 'testAndSet')[0]!;
    expect(tas).toMatchObject({ expectEpoch: 1, owner: 'B#1' });
    expect(b.status().state).toBe('going-live');
    const live = b.step(203, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: true, record: { owner: 'B#1', epoch: 2 } } } });
    expect(live.map((x) => x.type)).toContain('goLive');
    expect(ofType(live, 'reissueDiskIo')).toEqual([{ type: 'reissueDiskIo', io: { ioId: 9, kind: 'write', block: 1, data: bytes('w'), position: pos(2, 260) }, epoch: 2 }]);
    expect(consoleReleased(live)).toBe('x');
    expect(ofType(live, 'releaseOutput').map((r) => r.msg).filter((m) => m.t === 'input-ack')).toEqual([{ t: 'input-ack', epoch: 2, from: 'B#1', nextSeq: 1 }]);
    expect(b.status()).toMatchObject({ role: 'primary', state: 'alone', epoch: 2 });
    // The reissued write completes through the normal primary path.
    const done = b.step(204, { type: 'storageResult', result: { op: 'write', ioId: 9, epoch: 2, ok: true } });
    expect(ofType(done, 'completeIo')).toEqual([{ type: 'completeIo', ioId: 9 }]);
  });

  it('losing the test-and-set halts the backup (split brain resolved)', () => {
    const { b } = pair();
    const tas = ofType(b.step(200, { type: 'tick' }), 'testAndSet')[0]!;
    const r = b.step(201, { type: 'storageResult', result: { op: 'test-and-set', reqId: tas.reqId, result: { ok: false, reason: 'conflict', record: { owner: 'A#1', epoch: 2 } } } });
    expect(ofType(r, 'halt')).toHaveLength(1);
    expect(b.status().state).toBe('halted');
  });

  it('stops acknowledging once it decided to go live', () => {
    const { a, b } = pair();
    b.step(200, { type: 'tick' });
    expect(b.status().state).not.toBe('replaying');
    expect(deliver(b, 'A#1', frame(a, 201, 1, 'late'), 202)).toEqual([]);
  });

  it('backup-reads mode: reads the disk itself and replays the completion only with matching data', () => {
    const c = cfg({ readMode: 'backup-reads' });
    const { a, b } = pair(c);
    // Frame 1: the guest issues a read; frame 2 completes it (hash logged, no data).
    const f1 = frame(a, 1, 1);
    deliver(b, 'A#1', f1, 1);
    const issued = b.step(2, { type: 'diskReadIssued', position: pos(1, 150), ioId: 3, block: 5 });
    expect(ofType(issued, 'readBlock')).toEqual([{ type: 'readBlock', ioId: 3, block: 5 }]);
    b.step(2, { type: 'frameDone', position: pos(1, 199), guestTime: 10 });
    const good = bytes('good');
    a.step(3, { type: 'logEntriesProduced', entries: [{ position: pos(2, 200), bytes: new Uint8Array(2), io: { ioId: 3, hash: blockHash(good) } }] });
    const f2 = a.step(3, { type: 'frameDone', position: pos(2, 299), guestTime: 20 });
    expect(ofType(deliver(b, 'A#1', f2, 4), 'replay')).toEqual([]); // data not there yet
    // Wrong data (e.g. a racing write): re-read, do not replay.
    const bad = b.step(5, { type: 'storageResult', result: { op: 'read', ioId: 3, ok: true, data: bytes('bad!') } });
    expect(ofType(bad, 'replay')).toEqual([]);
    expect(ofType(bad, 'readBlock')).toHaveLength(1);
    const ok = b.step(6, { type: 'storageResult', result: { op: 'read', ioId: 3, ok: true, data: good } });
    expect(ofType(ok, 'provideReadData')).toEqual([{ type: 'provideReadData', ioId: 3, data: good }]);
    expect(ofType(ok, 'replay')).toHaveLength(1);
    expect(ok.findIndex((x) => x.type === 'provideReadData')).toBeLessThan(ok.findIndex((x) => x.type === 'replay'));
  });

  it('backup-reads + shared disk: a write also waits until the backup replayed past it (paper 4.2)', () => {
    const { a, b } = pair(cfg({ readMode: 'backup-reads' }));
    const acts = frame(a, 1, 1, undefined, [{ type: 'outputProduced', kind: 'disk-write', position: pos(1, 150), ioId: 1, block: 0, data: bytes('w') }]);
    const acked = deliver(a, 'B#1', deliver(b, 'A#1', acts, 1), 2);
    expect(ofType(acked, 'writeBlock')).toEqual([]);
    const replayed = deliver(a, 'B#1', b.step(50, { type: 'frameDone', position: pos(1, 199), guestTime: 10 }).concat(b.step(51, { type: 'tick' })), 52);
    expect(ofType(replayed, 'writeBlock')).toHaveLength(1);
  });

  it('non-shared disk: the backup writes its own copy before replaying the completion', () => {
    const { a, b } = pair(cfg({ diskMode: 'non-shared' }));
    deliver(b, 'A#1', frame(a, 1, 1), 1);
    const w = b.step(2, { type: 'outputProduced', kind: 'disk-write', position: pos(1, 150), ioId: 2, block: 1, data: bytes('w') });
    expect(ofType(w, 'writeBlock')).toHaveLength(1);
    b.step(2, { type: 'frameDone', position: pos(1, 199), guestTime: 10 });
    a.step(3, { type: 'logEntriesProduced', entries: [{ position: pos(2, 200), bytes: new Uint8Array(2), io: { ioId: 2 } }] });
    const f2 = a.step(3, { type: 'frameDone', position: pos(2, 299), guestTime: 20 });
    expect(ofType(deliver(b, 'A#1', f2, 4), 'replay')).toEqual([]);
    const done = b.step(5, { type: 'storageResult', result: { op: 'write', ioId: 2, epoch: 1, ok: true } });
    expect(ofType(done, 'replay')).toHaveLength(1);
  });
});

describe('FT VMotion (paper 3.1)', () => {
  it('a lone primary clones onto a standby, which acks from the snapshot position', () => {
    const c = cfg();
    const a = new FtAgent(c, 'A#1', { role: 'primary', epoch: 3, backup: null }, 0);
    const s = new FtAgent(c, 'C#2', { role: 'standby' }, 0);
    a.step(0, { type: 'outputProduced', kind: 'console', position: pos(1), bytes: bytes('abc') });
    a.step(0, { type: 'outputProduced', kind: 'disk-write', position: pos(1, 150), ioId: 5, block: 2, data: bytes('p') });
    const snapReq = ofType(a.step(1, { type: 'startClone', target: 'C#2' }), 'snapshotForClone')[0]!;
    expect(snapReq).toEqual({ type: 'snapshotForClone', cloneId: snapReq.cloneId, includeDisk: false });
    expect(a.step(1, { type: 'startClone', target: 'C#2' })).toEqual([]); // one clone at a time
    a.step(2, { type: 'frameDone', position: pos(1, 199), guestTime: 10 });
    const started = a.step(2, { type: 'snapshotTaken', cloneId: snapReq.cloneId, position: pos(1, 199), guestTime: 10, snapshot: bytes('SNAP') });
    expect(a.status().state).toBe('recording');
    const cloneMsg = sends(started)[0]!;
    expect(cloneMsg.t).toBe('clone-start');
    if (cloneMsg.t !== 'clone-start') return;
    expect(cloneMsg.clone).toMatchObject({ epoch: 3, primary: 'A#1', nextSeq: 1, position: pos(1, 199) });
    expect(cloneMsg.clone.pendingIo.map((p) => p.ioId)).toEqual([5]);
    // Output after the snapshot obeys the Output Rule.
    expect(consoleReleased(frame(a, 3, 2, 'after'))).toBe('');
    const sActs = deliver(s, 'A#1', started, 4);
    expect(ofType(sActs, 'restoreSnapshot')).toHaveLength(1);
    expect(s.status()).toMatchObject({ role: 'backup', state: 'replaying', epoch: 3 });
    expect(sends(sActs)[0]).toMatchObject({ t: 'ack', ackSeq: 0, cloneId: snapReq.cloneId });
    expect(a.primary!.cloning).toBe(true);
    deliver(a, 'C#2', sActs, 5);
    expect(a.primary!.cloning).toBe(false);
    // The clone message is resent if its ack is lost, and the backup re-acks it.
    const resent = deliver(s, 'A#1', started, 6);
    expect(sends(resent)[0]).toMatchObject({ t: 'ack' });
  });

  it('rejects a snapshot taken before frames that ran unlogged', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 3, backup: null }, 0);
    const req = ofType(a.step(1, { type: 'startClone', target: 'C#2' }), 'snapshotForClone')[0]!;
    a.step(2, { type: 'frameDone', position: pos(5, 599), guestTime: 50 });
    expect(a.step(3, { type: 'snapshotTaken', cloneId: req.cloneId, position: pos(4, 499), guestTime: 40, snapshot: bytes('S') })).toEqual([]);
    expect(a.status().state).toBe('alone');
    expect(ofType(a.step(4, { type: 'startClone', target: 'C#2' }), 'snapshotForClone')).toHaveLength(1);
  });

  it('a new backup silent while the snapshot crosses the channel and is restored is not declared failed before the clone grace', () => {
    const a = new FtAgent(cfg({ cloneGraceMs: 1000 }), 'A#1', { role: 'primary', epoch: 3, backup: null }, 0);
    const req = ofType(a.step(1, { type: 'startClone', target: 'C#2' }), 'snapshotForClone')[0]!;
    a.step(2, { type: 'frameDone', position: pos(1), guestTime: 10 });
    a.step(2, { type: 'snapshotTaken', cloneId: req.cloneId, position: pos(1), guestTime: 10, snapshot: bytes('S') });
    // Five failure timeouts of silence: still waiting for the ack (and resending), no go-live.
    expect(ofType(a.step(502, { type: 'tick' }), 'testAndSet')).toEqual([]);
    expect(a.status().state).toBe('recording');
    expect(ofType(a.step(1103, { type: 'tick' }), 'testAndSet')[0]).toMatchObject({ expectEpoch: 3 });
  });

  it('a new backup heartbeating while a slow snapshot transfer outlasts the clone grace renews it; silence after its last beat still ends in a test-and-set', () => {
    const a = new FtAgent(cfg({ cloneGraceMs: 1000 }), 'A#1', { role: 'primary', epoch: 3, backup: null }, 0);
    const req = ofType(a.step(1, { type: 'startClone', target: 'C#2' }), 'snapshotForClone')[0]!;
    a.step(2, { type: 'frameDone', position: pos(1), guestTime: 10 });
    a.step(2, { type: 'snapshotTaken', cloneId: req.cloneId, position: pos(1), guestTime: 10, snapshot: bytes('S') });
    for (const t of [500, 900, 1300]) a.step(t, { type: 'message', from: 'C#2', msg: { t: 'heartbeat', epoch: 3, stallMs: 0 } });
    // 1.4 s after the snapshot left, 150 ms after the last beat: the restore's silence, not a failure.
    expect(ofType(a.step(1450, { type: 'tick' }), 'testAndSet')).toEqual([]);
    expect(ofType(a.step(2400, { type: 'tick' }), 'testAndSet')[0]).toMatchObject({ expectEpoch: 3 });
  });

  it('a clone that never answers ends in a test-and-set, not a wait forever', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 3, backup: null }, 0);
    const req = ofType(a.step(1, { type: 'startClone', target: 'C#2' }), 'snapshotForClone')[0]!;
    a.step(2, { type: 'frameDone', position: pos(1), guestTime: 10 });
    a.step(2, { type: 'snapshotTaken', cloneId: req.cloneId, position: pos(1), guestTime: 10, snapshot: bytes('S') });
    const resend = a.step(30, { type: 'tick' });
    expect(sends(resend).some((m) => m.t === 'clone-start')).toBe(true);
    expect(ofType(a.step(200, { type: 'tick' }), 'testAndSet')[0]).toMatchObject({ expectEpoch: 3 });
  });
});
