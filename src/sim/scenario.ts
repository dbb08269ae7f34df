/**
 * A run's fault plan, drawn entirely from the seed: transport quality, partitions (both
 * ways and one-way), storage latency and outages, slow disks, slow backup CPUs, host
 * crashes (at arbitrary points, including between two actions of one step) and restarts,
 * goodbyes true and false, and stalls (a host inside a long frame hears and says nothing).
 * All faults stop at `healAt`, after which the liveness invariant is measured.
 */
import type { DiskMode, ReadMode } from '../ft/protocol/config.ts';
import { Rng } from './rng.ts';

export const HOSTS = ['A', 'B', 'C'] as const;
export type HostName = (typeof HOSTS)[number];

export interface Partition {
  from: number;
  to: number;
  a: string;
  b: string;
  /** true: only a -> b is cut. */
  oneWay: boolean;
}

export interface Scenario {
  seed: number;
  diskMode: DiskMode;
  readMode: ReadMode;
  frameMs: number;
  tickMs: number;
  healAt: number;
  endAt: number;
  net: { base: number; jitter: number; loss: number; dup: number };
  partitions: Partition[];
  storage: { latency: number; jitter: number; outages: { from: number; to: number }[] };
  slowDisk: Record<string, number>;
  cpu: Record<string, number>;
  crashes: { at: number; host: HostName; afterActions: number; restartAfter: number }[];
  typing: number[];
  /** Flow-control bound for this run: small ones make the primary hit it during partitions. */
  maxUnackedLogBytes: number;
  /** The cluster service announces a crashed host's departure (a closed tab says goodbye). */
  goodbyes: boolean;
  /** Wrong announcements: at `at`, `host` is said to have left while it runs (a false detection). */
  falseGoodbyes: { at: number; host: HostName }[];
  /** Long frames: at `at`, `host` runs `ms` without sending or receiving anything (then says so). */
  stalls: { at: number; host: HostName; ms: number }[];
  /**
   * Network traffic (paper 2.2's outputs): the client sends a request packet every `everyMs` to
   * whichever host takes it, the guest answers each with a packet. null: a run without packets.
   */
  packets: { everyMs: number } | null;
  /**
   * Paper 3.3: at this time the operator powers the VM off through the live primary's tab (the
   * next moment there is one). From then on no host may go live, unless the backup went live
   * before the power-off could stop it. null: a run without a power-off.
   */
  powerOff: number | null;
}

export function makeScenario(seed: number): Scenario {
  const r = new Rng(seed);
  const healAt = 240;
  const endAt = 520;
  const diskMode = r.chance(0.7) ? 'shared' : 'non-shared';
  const readMode = r.chance(0.7) ? 'log' : 'backup-reads';
  const net = {
    base: r.range(0.1, 1),
    jitter: r.range(0, 3),
    loss: r.chance(0.5) ? r.range(0, 0.08) : 0,
    dup: r.chance(0.4) ? r.range(0, 0.08) : 0,
  };
  const partitions: Partition[] = [];
  const np = r.pick([0, 0, 1, 1, 2, 3]);
  const nodes = ['A', 'B', 'C', 'client'];
  for (let i = 0; i < np; i++) {
    const from = r.range(0, healAt - 10);
    const a = r.pick(nodes);
    let b = r.pick(nodes);
    while (b === a) b = r.pick(nodes);
    partitions.push({ from, to: Math.min(healAt, from + r.range(5, 150)), a, b, oneWay: r.chance(0.4) });
  }
  const outages: { from: number; to: number }[] = [];
  const no = r.pick([0, 0, 0, 1, 2]);
  for (let i = 0; i < no; i++) {
    const from = r.range(0, healAt - 10);
    outages.push({ from, to: Math.min(healAt, from + r.range(3, 80)) });
  }
  const slowDisk: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  for (const h of HOSTS) {
    slowDisk[h] = r.chance(0.2) ? r.range(5, 60) : 0;
    cpu[h] = r.chance(0.25) ? r.range(0.5, 0.95) : 1;
  }
  const crashes: Scenario['crashes'] = [];
  const nc = r.pick([0, 1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < nc; i++) {
    crashes.push({
      at: r.range(5, healAt - 5),
      host: r.pick(HOSTS),
      afterActions: r.chance(0.5) ? 0 : r.int(1, 6),
      restartAfter: r.range(10, 120),
    });
  }
  crashes.sort((x, y) => x.at - y.at);
  const typing: number[] = [];
  for (let t = r.range(1, 20); t < endAt - 150; t += r.range(3, 40)) typing.push(t);
  const maxUnackedLogBytes = r.pick([250, 500, 3000]);
  // Drawn last, so the faults above stay what they were for every seed.
  const goodbyes = r.chance(0.5);
  const falseGoodbyes: Scenario['falseGoodbyes'] = [];
  for (let i = r.pick([0, 0, 0, 1, 2]); i > 0; i--) falseGoodbyes.push({ at: r.range(5, healAt - 5), host: r.pick(HOSTS) });
  // Around the failure timeout (24): shorter ones must be survived, longer ones may be mistaken
  // for a failure, and either way nothing may be lost or duplicated.
  const stalls: Scenario['stalls'] = [];
  for (let i = r.pick([0, 0, 1, 2, 4]); i > 0; i--) stalls.push({ at: r.range(5, healAt - 80), host: r.pick(HOSTS), ms: r.range(5, 60) });
  return {
    stalls,
    goodbyes,
    falseGoodbyes,
    seed,
    maxUnackedLogBytes,
    diskMode,
    readMode,
    frameMs: 2,
    tickMs: 2,
    healAt,
    endAt,
    net,
    partitions,
    storage: { latency: r.range(0.1, 1.5), jitter: r.range(0, 2), outages },
    slowDisk,
    cpu,
    crashes,
    typing,
    // Drawn after everything else (storage's draws above included), so a seed without packets is
    // the run it was before they existed.
    packets: r.chance(0.5) ? { everyMs: r.range(3, 15) } : null,
    // Drawn last of all, for the same reason.
    powerOff: r.chance(0.15) ? r.range(10, healAt - 10) : null,
  };
}
