/**
 * The primary's outputs (paper 2.2): what the Output Rule holds, and the action that puts each
 * into the world once it may go.
 */
import type { FtAction } from './api';
import type { ConsoleServer } from './console-stream';
import type { PendingIo } from './messages';
import type { Epoch, HostId } from './types';

export type Output =
  | { kind: 'console'; offset: number; bytes: Uint8Array }
  | { kind: 'input-ack'; nextSeq: number }
  | { kind: 'disk-write'; io: PendingIo }
  | { kind: 'packet'; frame: Uint8Array };

/** What an output weighs in the held-output buffer (flow control). */
export function outputBytes(o: Output): number {
  if (o.kind === 'console') return o.bytes.length;
  if (o.kind === 'packet') return o.frame.length;
  if (o.kind === 'disk-write') return o.io.data?.length ?? 0;
  return 8;
}

export function writeAction(io: PendingIo, epoch: Epoch): FtAction {
  return { type: 'writeBlock', ioId: io.ioId, block: io.block, data: io.data!, epoch };
}

/** The action releasing `o` in `epoch`; a console output also counts as released in `console`. */
export function releaseAction(o: Output, epoch: Epoch, from: HostId, console: ConsoleServer): FtAction {
  switch (o.kind) {
    case 'console':
      console.markReleased(o.offset + o.bytes.length);
      return { type: 'releaseOutput', msg: { t: 'console', epoch, from, offset: o.offset, bytes: o.bytes } };
    case 'packet':
      return { type: 'transmitPacket', epoch, frame: o.frame };
    case 'input-ack':
      return { type: 'releaseOutput', msg: { t: 'input-ack', epoch, from, nextSeq: o.nextSeq } };
    case 'disk-write':
      return writeAction(o.io, epoch);
  }
}
