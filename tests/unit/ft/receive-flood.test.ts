/**
 * A receive flood under FT (issue 13; paper 3.2 and Table 3: received packets are the largest
 * part of the log). Every received packet is logged with its bytes, so a client flooding the
 * VM, with a backup that cannot drain the log as fast, must not grow the log without bound: the
 * log buffer's flow control pauses the primary, and while it is paused the NIC's receive queue
 * (RxQueue, bounded as a real NIC's ring) drops what it cannot hold before anything is logged.
 * The primary agent is the real one; the VM is a loop that logs, at each frame boundary, the
 * frames queued since the last one, as the recorder does.
 */
import { describe, expect, it } from 'vitest';
import { FtAgent } from '../../../src/ft/protocol/agent';
import type { FtAction } from '../../../src/ft/protocol/api';
import { recordBytes, type ChannelMsg } from '../../../src/ft/protocol/messages';
import { RX_QUEUE_PACKETS, RxQueue } from '../../../src/engine/net-device';
import { cfg, ofType, pos } from './helpers';

const MAX = 1 << 20;
const FRAME = new Uint8Array(1514);
/** A logged net-receive entry: the frame and a little framing. */
const ENTRY_BYTES = FRAME.length + 16;

interface Run {
  maxUnacked: number;
  maxQueued: number;
  pauses: number;
  resumes: number;
  logged: number;
  dropped: number;
}

/**
 * `ms` of a flood of `perMs` full frames a millisecond (120 MB/s), the backup draining its
 * channel at `drainBytesPerMs` (a slow link: 2 MB/s). `rx`: the NIC's receive queue.
 */
function flood(rx: RxQueue, ms = 4000, perMs = 80, drainBytesPerMs = 2000): Run {
  const c = cfg({ maxUnackedLogBytes: MAX, resumeUnackedLogBytes: MAX >> 1, failureTimeoutMs: 60_000, retransmitMs: 60_000, heartbeatIntervalMs: 50 });
  const a = new FtAgent(c, 'A#1', { role: 'primary', epoch: 1, backup: 'B#1' }, 0);
  const b = new FtAgent(c, 'B#1', { role: 'backup', epoch: 1, primary: 'A#1' }, 0);
  const channel: { msg: ChannelMsg; bytes: number }[] = [];
  const r: Run = { maxUnacked: 0, maxQueued: 0, pauses: 0, resumes: 0, logged: 0, dropped: 0 };
  let paused = false;
  let frame = 0;
  let credit = 0;
  const perform = (now: number, acts: FtAction[]) => {
    for (const act of acts) {
      if (act.type === 'injectPacket') rx.push(act.frame);
      else if (act.type === 'pauseExecution') (paused = true), r.pauses++;
      else if (act.type === 'resumeExecution') (paused = false), r.resumes++;
      else if (act.type === 'send') {
        const size = act.msg.t === 'log' ? act.msg.records.reduce((n, x) => n + recordBytes(x), 0) : 16;
        channel.push({ msg: act.msg, bytes: size });
      }
    }
  };
  for (let now = 1; now <= ms; now++) {
    for (let k = 0; k < perMs; k++) perform(now, a.step(now, { type: 'packetReceived', frame: FRAME }));
    r.maxQueued = Math.max(r.maxQueued, rx.length);
    if (!paused) {
      // One frame: the queued frames enter the VM at its boundary, each a log entry.
      frame++;
      const entries = rx.take().map((_, i) => ({ position: pos(frame, frame * 100 + i), bytes: new Uint8Array(ENTRY_BYTES) }));
      r.logged += entries.length;
      perform(now, a.step(now, { type: 'logEntriesProduced', entries }));
      perform(now, a.step(now, { type: 'frameDone', position: pos(frame, frame * 100 + 99), guestTime: frame }));
    }
    if (now % 10 === 0) perform(now, a.step(now, { type: 'tick' }));
    r.maxUnacked = Math.max(r.maxUnacked, a.primary!.unackedLogBytes);
    // The slow backup: takes what its link delivered this millisecond, acks straight back.
    credit = channel.length > 0 ? credit + drainBytesPerMs : 0;
    while (channel.length > 0 && channel[0]!.bytes <= credit) {
      const m = channel.shift()!;
      credit -= m.bytes;
      for (const back of ofType(b.step(now, { type: 'message', from: 'A#1', msg: m.msg }), 'send')) perform(now, a.step(now, { type: 'message', from: 'B#1', msg: back.msg }));
    }
  }
  r.dropped = rx.dropped;
  return r;
}

describe('a receive flood: the log buffer flow control bounds the log (paper 3.2)', () => {
  it('with the NIC queue bounded, the unacknowledged log stays under the bound plus one frame of received packets', () => {
    const r = flood(new RxQueue());
    const oneFrame = RX_QUEUE_PACKETS * ENTRY_BYTES;
    console.log(`receive flood, bounded queue: max unacked log ${r.maxUnacked} B (bound ${MAX} + one frame ${oneFrame}), max queued ${r.maxQueued}, pauses ${r.pauses}, resumes ${r.resumes}, logged ${r.logged}, dropped ${r.dropped}`);
    expect(r.pauses).toBeGreaterThan(1);
    expect(r.resumes).toBeGreaterThan(1);
    expect(r.maxQueued).toBeLessThanOrEqual(RX_QUEUE_PACKETS);
    expect(r.maxUnacked).toBeGreaterThan(MAX);
    expect(r.maxUnacked).toBeLessThanOrEqual(MAX + oneFrame + 1024);
    // What the backup could not drain was dropped at the NIC, never logged.
    expect(r.dropped).toBeGreaterThan(r.logged);
  });

  it('without the queue bound, the queue grows while the primary is paused and the next frame overshoots the bound by all of it', () => {
    const r = flood(new RxQueue(Number.POSITIVE_INFINITY));
    console.log(`receive flood, unbounded queue: max unacked log ${r.maxUnacked} B, max queued ${r.maxQueued}`);
    expect(r.maxQueued).toBeGreaterThan(10 * RX_QUEUE_PACKETS);
    expect(r.maxUnacked).toBeGreaterThan(MAX + 10 * RX_QUEUE_PACKETS * ENTRY_BYTES);
  });
});
