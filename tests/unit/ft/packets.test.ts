/**
 * Network packets under the protocol (paper 2.2): a transmitted packet is an output held by
 * the Output Rule; a received packet is injected (and so logged) only by a live primary; the
 * backup's transmitted packets are dropped.
 */
import { describe, expect, it } from 'vitest';
import { FtAgent } from '../../../src/ft/protocol/agent';
import type { FtAction, FtEvent } from '../../../src/ft/protocol/api';
import type { ChannelMsg } from '../../../src/ft/protocol/messages';
import { bytes, cfg, ofType, pos } from './helpers';

const sends = (acts: FtAction[]): ChannelMsg[] => ofType(acts, 'send').map((s) => s.msg);
function deliver(to: FtAgent, from: string, acts: FtAction[], now: number): FtAction[] {
  const out: FtAction[] = [];
  for (const m of sends(acts)) out.push(...to.step(now, { type: 'message', from, msg: m }));
  return out;
}
function frame(a: FtAgent, now: number, f: number, extra: FtEvent[]): FtAction[] {
  const acts: FtAction[] = [];
  acts.push(...a.step(now, { type: 'logEntriesProduced', entries: [{ position: pos(f, f * 100 + 10), bytes: new Uint8Array(8) }] }));
  for (const e of extra) acts.push(...a.step(now, e));
  acts.push(...a.step(now, { type: 'frameDone', position: pos(f, f * 100 + 99), guestTime: f * 10 }));
  return acts;
}

describe('packets', () => {
  it('a transmitted packet waits for the backup to acknowledge its frame, then goes onto the network', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 1, backup: 'B#1' }, 0);
    const b = new FtAgent(cfg(), 'B#1', { role: 'backup', epoch: 1, primary: 'A#1' }, 0);
    const pkt = bytes('ethernet frame');
    const acts = frame(a, 1, 1, [{ type: 'outputProduced', kind: 'packet', position: pos(1, 199), frame: pkt }]);
    expect(ofType(acts, 'transmitPacket')).toEqual([]);
    const bActs = deliver(b, 'A#1', acts, 2);
    // The backup replays the same frame and produces the same packet: dropped, no action.
    const bOut = b.step(3, { type: 'outputProduced', kind: 'packet', position: pos(1, 199), frame: pkt });
    expect(bOut).toEqual([]);
    const rel = deliver(a, 'B#1', bActs, 4);
    expect(ofType(rel, 'transmitPacket')).toEqual([{ type: 'transmitPacket', epoch: 1, frame: pkt }]);
  });

  it('a primary running alone transmits at once', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 1, backup: null }, 0);
    const acts = a.step(1, { type: 'outputProduced', kind: 'packet', position: pos(1), frame: bytes('p') });
    expect(ofType(acts, 'transmitPacket')).toHaveLength(1);
  });

  it('only a live primary injects received packets; a backup drops them', () => {
    const a = new FtAgent(cfg(), 'A#1', { role: 'primary', epoch: 1, backup: 'B#1' }, 0);
    const b = new FtAgent(cfg(), 'B#1', { role: 'backup', epoch: 1, primary: 'A#1' }, 0);
    const f = bytes('incoming');
    expect(a.step(1, { type: 'packetReceived', frame: f })).toEqual([{ type: 'injectPacket', frame: f }]);
    expect(b.step(1, { type: 'packetReceived', frame: f })).toEqual([]);
  });
});
