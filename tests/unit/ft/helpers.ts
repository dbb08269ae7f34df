import { makeConfig, WORKER_DEFAULTS, type FtConfig } from '../../../src/ft/protocol/config';
import type { FtAction } from '../../../src/ft/protocol/api';
import type { Position } from '../../../src/ft/protocol/types';

export const pos = (frame: number, icount = frame * 100): Position => ({ frame, icount: BigInt(icount) });
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

export function cfg(over: Partial<FtConfig> = {}): FtConfig {
  return makeConfig(
    {
      heartbeatIntervalMs: 10,
      failureTimeoutMs: 100,
      cloneGraceMs: 100,
      // Most tests start a pair and time it out at once; the boot grace has its own test.
      bootGraceMs: 0,
      retransmitMs: 20,
      storageRetryMs: 10,
      maxUnackedLogBytes: 1000,
      resumeUnackedLogBytes: 500,
      lagBoundMs: 50,
      lagAdjustIntervalMs: 10,
      consoleResendMs: 10,
      ...over,
    },
    WORKER_DEFAULTS,
  );
}

export function ofType<T extends FtAction['type']>(acts: FtAction[], t: T): Extract<FtAction, { type: T }>[] {
  return acts.filter((a): a is Extract<FtAction, { type: T }> => a.type === t);
}

export function consoleReleased(acts: FtAction[]): string {
  return ofType(acts, 'releaseOutput')
    .map((a) => (a.msg.t === 'console' ? text(a.msg.bytes) : ''))
    .join('');
}
