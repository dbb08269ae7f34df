// The guest's network card (v86's NE2000) as the engine sees it: packets received from the
// outside world are inputs, delivered only at frame boundaries (the recorder logs them, the
// replayer feeds them from the log); packets the guest transmits are outputs, collected during
// a frame and visible at its end, like console bytes (console-output.ts).
//
// v86 hands `net0-send` a view into the card's send buffer, which the guest reuses for the next
// packet: every transmitted packet is copied at once, before anything holds it.

import { crc32 } from "../ft/log/crc32.ts";
import type { NetTransmitEntry } from "../ft/log/entries.ts";
import type { EngineStats } from "./stats.ts";

/** Ethernet: 14-byte header, at most 1500 bytes of payload (no FCS: v86 neither adds nor expects one). */
export const MIN_FRAME = 14;
export const MAX_FRAME = 1514;

/** A packet the guest transmitted, with the position at which it became visible (frame end). */
export interface PacketChunk {
  /** Transmitted packets before this one (0-based, travels in snapshots). */
  seq: number;
  bytes: Uint8Array;
  frame: number;
  icount: number;
}

/** Why a received frame was refused before it reached the log. */
export type RejectReason = "truncated" | "oversize";

/** A received frame the NIC may take: an Ethernet header and no more than one MTU. */
export function checkReceivedFrame(frame: Uint8Array): RejectReason | null {
  if (frame.length < MIN_FRAME) return "truncated";
  if (frame.length > MAX_FRAME) return "oversize";
  return null;
}

/**
 * Received frames wait for the next frame boundary here: the NIC's receive ring as the outside
 * world sees it, bounded as a real one is. While the VM does not run (flow control paused it
 * because the backup has not acknowledged enough of the log, paper 3.2) a flood of packets
 * would otherwise grow this queue, and the next frame's log with it, without bound. A frame
 * that finds it full is dropped before the log (as a network drops packets; TCP resends them),
 * so the backup never sees it either and the replay stays exact. 128 full frames hold two of
 * the largest windows the guest can offer the client (64 KiB, no window scaling).
 */
export const RX_QUEUE_PACKETS = 128;

export class RxQueue {
  /** Frames dropped because the queue was full. */
  dropped = 0;
  private q: Uint8Array[] = [];

  constructor(readonly limit = RX_QUEUE_PACKETS) {}

  get length(): number {
    return this.q.length;
  }

  /** Queues a copy of `frame`; false (and counted) when full. */
  push(frame: Uint8Array): boolean {
    if (this.q.length >= this.limit) {
      this.dropped++;
      return false;
    }
    this.q.push(frame.slice());
    return true;
  }

  /** Everything queued, in arrival order, for the frame boundary. */
  take(): Uint8Array[] {
    const o = this.q;
    this.q = [];
    return o;
  }
}

export class NetTransmits {
  /** Packets transmitted so far: the seq of the next one (travels in snapshots). */
  count = 0;
  private frameCrc = 0;
  private framePackets: Uint8Array[] = [];
  private chunks: PacketChunk[] = [];

  constructor(private readonly stats: EngineStats) {}

  /** Machine hook, inside a frame: the card sent a packet (`view` is the card's buffer: copy it). */
  packet(view: Uint8Array): void {
    this.framePackets.push(view.slice());
  }

  startFrame(): void {
    this.framePackets = [];
  }

  /** At the end of frame `frame` (instruction count `icount`): its transmit entry, if it sent anything. */
  endFrame(frame: number, icount: number): NetTransmitEntry | null {
    if (this.framePackets.length === 0) return null;
    let crc = 0;
    for (const bytes of this.framePackets) {
      crc = crc32(bytes, 0, bytes.length, crc);
      this.chunks.push({ seq: this.count++, bytes, frame, icount });
      this.stats.netPacketsOut++;
      this.stats.netBytesOut += bytes.length;
    }
    this.framePackets = [];
    this.frameCrc = crc;
    return { k: "net-transmit", end: this.count, crc };
  }

  /** CRC of the last frame's packets (tests). */
  get lastCrc(): number {
    return this.frameCrc;
  }

  /** Packets since the last call. */
  take(): PacketChunk[] {
    const o = this.chunks;
    this.chunks = [];
    return o;
  }
}
