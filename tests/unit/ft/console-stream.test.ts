import { describe, expect, it } from 'vitest';
import { ConsoleClient, ConsoleServer } from '../../../src/ft/protocol/console-stream';
import { bytes, text } from './helpers';

describe('console stream: exactly-once output', () => {
  it('numbers bytes by offset and keeps what the client has not acknowledged', () => {
    const s = new ConsoleServer();
    expect(s.produce(bytes('hello '))).toBe(0);
    expect(s.produce(bytes('world'))).toBe(6);
    s.markReleased(11);
    expect(s.releasedChunksFrom(3, 100).map((c) => [c.offset, text(c.bytes)])).toEqual([[3, 'lo world']]);
    s.onClientAck(6);
    expect(text(s.state().retained)).toBe('world');
    expect(s.releasedChunksFrom(0, 100).map((c) => c.offset)).toEqual([6]); // below clientAcked is gone
    expect(s.releasedChunksFrom(6, 2).map((c) => text(c.bytes))).toEqual(['wo']);
  });
  it('state survives a round trip (clone / promotion)', () => {
    const s = new ConsoleServer();
    s.produce(bytes('abcdef'));
    s.onClientAck(2);
    s.inputApplied(0);
    s.inputApplied(1);
    const t = ConsoleServer.from(s.state());
    expect(t.produced).toBe(6);
    expect(t.nextInputSeq).toBe(2);
    expect(t.releasedChunksFrom(0, 100).map((c) => [c.offset, text(c.bytes)])).toEqual([[2, 'cdef']]);
  });
  it('the client drops duplicates, waits out gaps, and flags contradicting resends', () => {
    const c = new ConsoleClient(10);
    const m = (offset: number, s: string) => ({ t: 'console' as const, epoch: 1, from: 'A#1', offset, bytes: bytes(s) });
    expect(text(c.onMessage(m(0, 'abc'))!)).toBe('abc');
    expect(c.onMessage(m(5, 'fg'))).toBeNull(); // gap
    expect(c.length).toBe(3);
    expect(text(c.onMessage(m(1, 'bcde'))!)).toBe('de'); // overlap: only the new part
    expect(c.onMessage(m(0, 'abcde'))).toBeNull(); // pure duplicate
    expect(c.conflicts).toBe(0);
    c.onMessage(m(2, 'XY'));
    expect(c.conflicts).toBe(1);
    expect(text(c.stream())).toBe('abcde');
  });
});

describe('console stream: exactly-once input', () => {
  it('the host consumes each sequence number once and in order', () => {
    const s = new ConsoleServer();
    expect(s.acceptInput(1)).toBe(false); // ahead of order
    expect(s.acceptInput(0)).toBe(true);
    expect(s.acceptInput(0)).toBe(false); // duplicate
    expect(s.acceptInput(1)).toBe(true);
    s.inputApplied(0);
    s.resetInjection(); // new engine after promotion: input 1 was never applied
    expect(s.acceptInput(1)).toBe(true);
  });
  it('the client retransmits until acknowledged', () => {
    const c = new ConsoleClient(10);
    c.type(bytes('a'));
    c.type(bytes('b'));
    const first = c.tick(0);
    expect(first).toEqual([
      { t: 'client-ack', consoleOffset: 0 },
      { t: 'client-input', seq: 0, bytes: bytes('a') },
      { t: 'client-input', seq: 1, bytes: bytes('b') },
    ]);
    expect(c.tick(5)).toEqual([]);
    c.onMessage({ t: 'input-ack', epoch: 1, from: 'A#1', nextSeq: 1 });
    expect(c.tick(10).filter((m) => m.t === 'client-input').map((m) => (m.t === 'client-input' ? m.seq : -1))).toEqual([1]);
    c.onMessage({ t: 'input-ack', epoch: 1, from: 'A#1', nextSeq: 2 });
    expect(c.unackedInputs).toBe(0);
  });

  it('a new primary (a higher epoch) gets unacknowledged input at the next tick, not a resend period later', () => {
    const seqs = (ms: ReturnType<ConsoleClient['tick']>) => ms.flatMap((m) => (m.t === 'client-input' ? [m.seq] : []));
    const c = new ConsoleClient(250);
    c.onMessage({ t: 'input-ack', epoch: 1, from: 'A#1', nextSeq: 0 });
    c.type(bytes('x'));
    expect(seqs(c.tick(0))).toEqual([0]);
    // The first epoch seen is not a failover: no resend before the period.
    expect(c.tick(100)).toEqual([]);
    // A#1 died without consuming seq 0; B#1 goes live at epoch 2 and says what it consumed.
    c.onMessage({ t: 'input-ack', epoch: 2, from: 'B#1', nextSeq: 0 });
    expect(seqs(c.tick(101))).toEqual([0]);
    expect(c.tick(102)).toEqual([]);
    // The same epoch again, or nothing left unacknowledged: nothing early.
    c.onMessage({ t: 'input-ack', epoch: 2, from: 'B#1', nextSeq: 0 });
    expect(c.tick(103)).toEqual([]);
    c.onMessage({ t: 'input-ack', epoch: 3, from: 'A#2', nextSeq: 1 });
    expect(c.tick(104)).toEqual([]);
  });
});
