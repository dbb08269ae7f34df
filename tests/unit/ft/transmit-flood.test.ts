/**
 * A transmit flood under FT (issue 13; paper 2.2 and 3.2). Every packet the guest transmits is
 * an output the Output Rule holds until the backup acknowledges its frame, but the log entry
 * that stands for it is a few bytes (`net-transmit`: a count and a CRC), not the packet: a guest
 * transmitting as fast as it can while the backup's link is slow fills the held-output queue
 * some hundred times faster than the log. The log buffer's bound alone (4 MiB by default) would
 * let it hold tens of thousands of frames' packets. So the held outputs count toward flow
 * control too (`maxHeldOutputBytes`): the primary stops running when they exceed the bound, as
 * it does when the log buffer is full, and the guest's flood is slowed to what the backup
 * acknowledges — nothing is dropped, the outside world sees the packets late, never ahead of
 * the backup's ack.
 * The primary agent is the real one; the VM is a loop that transmits `perFrame` full frames a
 * frame and reports them as the host does: the frame's log entry, the outputs, then frameDone.
 */
import { describe, expect, it } from 'vitest';
import { FtAgent } from '../../../src/ft/protocol/agent';
import type { FtAction } from '../../../src/ft/protocol/api';
import { recordBytes, type ChannelMsg } from '../../../src/ft/protocol/messages';
import { cfg, ofType, pos } from './helpers';

const LOG_MAX = 1 << 20;
const HELD_MAX = 1 << 20;
const FRAME = new Uint8Array(1514);
/** A logged net-transmit entry: the packet count and the CRC of the frame's packets. */
const ENTRY_BYTES = 12;

interface Run {
  maxUnacked: number;
  maxHeldBytes: number;
  maxHeld: number;
  pauses: number;
  sent: number;
  released: number;
  /** A packet released before the backup acknowledged its frame (must stay 0). */
  early: number;
}

/**
 * `ms` of a guest sending `perFrame` full frames each 1 ms frame (12 MB/s), the backup's link
 * draining `drainBytesPerMs` (20 KB/s: a backup falling behind, slower than the log's 44 bytes a
 * frame, so its acks come later and later); the backup acks what it received at once.
 */
function flood(maxHeldOutputBytes: number, ms = 4000, perFrame = 8, drainBytesPerMs = 20): Run {
  const c = cfg({
    maxUnackedLogBytes: LOG_MAX,
    resumeUnackedLogBytes: LOG_MAX >> 1,
    maxHeldOutputBytes,
    resumeHeldOutputBytes: Math.min(maxHeldOutputBytes, HELD_MAX >> 1),
    failureTimeoutMs: 60_000,
    retransmitMs: 60_000,
    heartbeatIntervalMs: 50,
  });
  const a = new FtAgent(c, 'A#1', { role: 'primary', epoch: 1, backup: 'B#1' }, 0);
  const b = new FtAgent(c, 'B#1', { role: 'backup', epoch: 1, primary: 'A#1' }, 0);
  const channel: { msg: ChannelMsg; bytes: number }[] = [];
  const r: Run = { maxUnacked: 0, maxHeldBytes: 0, maxHeld: 0, pauses: 0, sent: 0, released: 0, early: 0 };
  let paused = false;
  let frame = 0;
  let credit = 0;
  // Frame of each packet in flight to the switch, and the last frame the backup acknowledged.
  const frameOf = new Map<Uint8Array, number>();
  let ackedFrame = 0;
  const perform = (acts: FtAction[]) => {
    for (const act of acts) {
      if (act.type === 'pauseExecution') (paused = true), r.pauses++;
      else if (act.type === 'resumeExecution') paused = false;
      else if (act.type === 'transmitPacket') {
        r.released++;
        if ((frameOf.get(act.frame) ?? Infinity) > ackedFrame) r.early++;
      } else if (act.type === 'send') {
        const size = act.msg.t === 'log' ? act.msg.records.reduce((n, x) => n + recordBytes(x), 0) : 16;
        channel.push({ msg: act.msg, bytes: size });
      }
    }
  };
  for (let now = 1; now <= ms; now++) {
    if (!paused) {
      frame++;
      const at = pos(frame, frame * 100 + 50);
      perform(a.step(now, { type: 'logEntriesProduced', entries: [{ position: at, bytes: new Uint8Array(ENTRY_BYTES) }] }));
      for (let k = 0; k < perFrame; k++) {
        const p = FRAME.slice();
        frameOf.set(p, frame);
        r.sent++;
        perform(a.step(now, { type: 'outputProduced', kind: 'packet', position: at, frame: p }));
      }
      perform(a.step(now, { type: 'frameDone', position: pos(frame, frame * 100 + 99), guestTime: frame }));
    }
    if (now % 10 === 0) perform(a.step(now, { type: 'tick' }));
    r.maxUnacked = Math.max(r.maxUnacked, a.primary!.unackedLogBytes);
    r.maxHeld = Math.max(r.maxHeld, a.primary!.heldOutputs);
    r.maxHeldBytes = Math.max(r.maxHeldBytes, a.primary!.heldOutputBytes);
    // The slow backup: takes what its link delivered this millisecond, acks straight back.
    credit = channel.length > 0 ? credit + drainBytesPerMs : 0;
    while (channel.length > 0 && channel[0]!.bytes <= credit) {
      const m = channel.shift()!;
      credit -= m.bytes;
      if (m.msg.t === 'log') for (const rec of m.msg.records) if (rec.kind === 'frame-end') ackedFrame = Math.max(ackedFrame, rec.position.frame);
      for (const back of ofType(b.step(now, { type: 'message', from: 'A#1', msg: m.msg }), 'send')) perform(a.step(now, { type: 'message', from: 'B#1', msg: back.msg }));
    }
  }
  return r;
}

describe('a transmit flood: held outputs count toward flow control (paper 2.2, 3.2)', () => {
  it('with the held-output bound, the primary pauses and held bytes stay under the bound plus one frame', () => {
    const r = flood(HELD_MAX);
    const oneFrame = 8 * FRAME.length;
    console.log(`transmit flood, held bound ${HELD_MAX} B: max held ${r.maxHeldBytes} B (${r.maxHeld} packets), max unacked log ${r.maxUnacked} B, pauses ${r.pauses}, sent ${r.sent}, released ${r.released}, released early ${r.early}`);
    expect(r.pauses).toBeGreaterThan(1);
    expect(r.maxHeldBytes).toBeGreaterThan(HELD_MAX);
    expect(r.maxHeldBytes).toBeLessThanOrEqual(HELD_MAX + oneFrame);
    expect(r.maxUnacked).toBeLessThanOrEqual(LOG_MAX);
    // Slowed, not dropped: the packets go out as the backup acknowledges them, none ahead of it.
    expect(r.released).toBeGreaterThan(r.sent - (HELD_MAX + oneFrame) / FRAME.length - 1);
    expect(r.early).toBe(0);
  });

  it('without it (only the log bound), the log stays small and the held outputs grow with the flood', () => {
    // Half as long: the Output Rule scans its held list on each output, and 2 s already shows it.
    const r = flood(Number.POSITIVE_INFINITY, 2000);
    console.log(`transmit flood, no held bound: max held ${r.maxHeldBytes} B (${r.maxHeld} packets), max unacked log ${r.maxUnacked} B, pauses ${r.pauses}, sent ${r.sent}`);
    expect(r.maxUnacked).toBeLessThanOrEqual(LOG_MAX);
    expect(r.maxHeldBytes).toBeGreaterThan(10 * HELD_MAX);
    expect(r.early).toBe(0);
  });
});
