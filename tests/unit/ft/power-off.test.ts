/**
 * Paper 3.3: a primary powered off on purpose makes sure its backup stops too instead of going
 * live, even when the power-off entry is lost on the logging channel (src/ft/protocol/power-off.ts).
 */
import { describe, expect, it } from 'vitest';
import { FtAgent } from '../../../src/ft/protocol/agent';
import type { FtAction, FtEvent } from '../../../src/ft/protocol/api';
import type { ChannelMsg } from '../../../src/ft/protocol/messages';
import { bytes, cfg, consoleReleased, ofType, pos } from './helpers';

function pair() {
  const c = cfg();
  const a = new FtAgent(c, 'A#1', { role: 'primary', epoch: 1, backup: 'B#1' }, 0);
  const b = new FtAgent(c, 'B#1', { role: 'backup', epoch: 1, primary: 'A#1' }, 0);
  return { a, b };
}
const sends = (acts: FtAction[]): ChannelMsg[] => ofType(acts, 'send').map((s) => s.msg);
function deliver(to: FtAgent, from: string, acts: FtAction[], now: number): FtAction[] {
  return sends(acts).flatMap((msg) => to.step(now, { type: 'message', from, msg }));
}
const tasResult = (reqId: number, won: boolean, epoch: number, owner: string): FtEvent => ({
  type: 'storageResult',
  result: { op: 'test-and-set', reqId, result: won ? { ok: true, record: { owner, epoch } } : { ok: false, reason: 'conflict', record: { owner, epoch } } },
});
/** Ticks `agent` every 10 ms from `from` until it asks for a test-and-set; the request. */
function tickUntilTestAndSet(agent: FtAgent, from: number) {
  for (let t = from; t < from + 1000; t += 10) {
    const tas = ofType(agent.step(t, { type: 'tick' }), 'testAndSet');
    if (tas.length > 0) return { tas: tas[0]!, at: t };
  }
  throw new Error('no test-and-set');
}

describe('power-off (paper 3.3)', () => {
  it('stops the VM and waits for the backup to acknowledge the entry; output the backup has acknowledged still goes out', () => {
    const { a, b } = pair();
    const acts = [
      ...a.step(1, { type: 'outputProduced', kind: 'console', position: pos(1, 150), bytes: bytes('bye') }),
      ...a.step(1, { type: 'logEntriesProduced', entries: [{ position: pos(1, 110), bytes: new Uint8Array(8) }] }),
      ...a.step(1, { type: 'frameDone', position: pos(1, 199), guestTime: 10 }),
      ...a.step(2, { type: 'powerOff' }),
    ];
    expect(ofType(acts, 'pauseExecution')).toEqual([{ type: 'pauseExecution', reason: 'power-off' }]);
    expect(ofType(acts, 'halt')).toEqual([]);
    expect(a.status().state).toBe('powering-off');
    // The VM's last frames still report: nothing of theirs is logged or released.
    const late = [
      ...a.step(3, { type: 'outputProduced', kind: 'console', position: pos(2, 250), bytes: bytes('LATE') }),
      ...a.step(3, { type: 'logEntriesProduced', entries: [{ position: pos(2, 210), bytes: new Uint8Array(8) }] }),
      ...a.step(3, { type: 'frameDone', position: pos(2, 299), guestTime: 20 }),
    ];
    expect(sends(late)).toEqual([]);
    const acked = deliver(a, 'B#1', deliver(b, 'A#1', acts, 4), 5);
    expect(consoleReleased(acked)).toBe('bye');
    expect(ofType(acked, 'halt')).toHaveLength(1);
    expect(a.status().state).toBe('halted');
    expect(a.primary!.powerOff!.outcome).toBe('acknowledged');
  });

  it('the entry lost: the primary retransmits it, then takes the lock record; the backup loses its test-and-set and halts, nobody goes live', () => {
    const { a, b } = pair();
    a.step(1, { type: 'powerOff' });
    // Every message is lost; the primary resends the entry, and heartbeats so that a backup that
    // hears those but not the entry does not time out.
    const early = [10, 20, 30, 40].flatMap((t) => sends(a.step(t, { type: 'tick' })));
    expect(early.filter((m) => m.t === 'log' && m.records.some((r) => r.kind === 'control')).length).toBeGreaterThan(0);
    expect(early.filter((m) => m.t === 'heartbeat').length).toBeGreaterThan(0);
    // Unacknowledged by half the failure timeout (100): it takes the lock record, before the
    // backup's detector could fire.
    const p = tickUntilTestAndSet(a, 50);
    expect(p.at).toBeLessThan(100);
    expect(p.tas).toMatchObject({ expectEpoch: 1, owner: 'A#1' });
    const won = a.step(p.at + 1, tasResult(p.tas.reqId, true, 2, 'A#1'));
    expect(ofType(won, 'goLive')).toEqual([]);
    expect(ofType(won, 'halt')[0]!.reason).toMatch(/moved to epoch 2: the backup cannot go live/);
    expect(a.primary!.powerOff!.outcome).toBe('fenced');
    // The backup never heard: its detector fires, and the test-and-set it asks for loses.
    const q = tickUntilTestAndSet(b, 100);
    const lost = b.step(q.at + 1, tasResult(q.tas.reqId, false, 2, 'A#1'));
    expect(ofType(lost, 'goLive')).toEqual([]);
    expect(b.status().state).toBe('halted');
  });

  it('the backup took the lock record first: the power-off came too late, and says so', () => {
    const { a } = pair();
    a.step(1, { type: 'powerOff' });
    const p = tickUntilTestAndSet(a, 10);
    const lost = a.step(p.at + 1, tasResult(p.tas.reqId, false, 2, 'B#1'));
    expect(ofType(lost, 'halt')[0]!.reason).toMatch(/backup took the lock record first/);
    expect(a.primary!.powerOff!.outcome).toBe('overtaken');
  });

  it('a primary already going live when powered off: its test-and-set, if won, fences the backup instead of making it alone', () => {
    const { a } = pair();
    const p = tickUntilTestAndSet(a, 10);
    expect(a.status().state).toBe('going-live');
    expect(ofType(a.step(p.at + 1, { type: 'powerOff' }), 'pauseExecution')).toHaveLength(1);
    const won = a.step(p.at + 2, tasResult(p.tas.reqId, true, 2, 'A#1'));
    expect(ofType(won, 'goLive')).toEqual([]);
    expect(a.status().state).toBe('halted');
    expect(a.primary!.powerOff!.outcome).toBe('fenced');
  });

  it('alone, there is no backup to stop: it halts at once', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 1, backup: null }, 0);
    expect(ofType(a.step(1, { type: 'powerOff' }), 'halt')).toEqual([{ type: 'halt', reason: 'powered off' }]);
    expect(a.primary!.powerOff!.outcome).toBe('alone');
  });

  it('a backup already going live when the entry arrives acknowledges it before it halts, so the primary does not fence', () => {
    const { a, b } = pair();
    const acts = a.step(10, { type: 'powerOff' });
    expect(ofType(b.step(2000, { type: 'tick' }), 'testAndSet')).toHaveLength(1);
    const bActs = deliver(b, 'A#1', acts, 2001);
    expect(b.status().state).toBe('halted');
    deliver(a, 'B#1', bActs, 2002);
    expect(a.primary!.powerOff!.outcome).toBe('acknowledged');
  });
});
