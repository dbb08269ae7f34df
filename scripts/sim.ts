/**
 * Seeded fault simulator (src/sim): the real cluster service (src/cluster), host driver (src/host)
 * and FT protocol (src/ft/protocol) on a toy deterministic engine, under injected faults.
 *
 *   npm run sim -- --seeds N [--from S]      run seeds S..S+N-1 (S defaults to 1)
 *   npm run sim -- --seed S [--quiet]        reproduce one seed and print its trace
 *   --unsafe no-output-rule|no-test-and-set|no-fencing   (test-only: disable a safeguard)
 *   --keep-going                             do not stop at the first failing seed
 */
import { runSeed, runSeeds } from '../src/sim/run.ts';
import type { UnsafeFlags } from '../src/ft/protocol/config.ts';
import { cli } from './lib/args.ts';

const UNSAFE = { 'no-output-rule': 'noOutputRule', 'no-test-and-set': 'noTestAndSet', 'no-fencing': 'noFencing' } as const;
const { options: args } = cli({
  usage: 'npm run sim -- [options]',
  about: 'Seeded fault simulator (src/sim): the real cluster service (src/cluster), host driver (src/host) and FT protocol (src/ft/protocol) on a toy deterministic engine.',
  options: {
    seeds: { type: 'int', min: 1, default: 1000, help: 'run this many seeds, from --from on' },
    from: { type: 'int', min: 0, default: 1, help: 'the first seed --seeds runs' },
    seed: { type: 'int', min: 0, help: 'reproduce this one seed and print its trace' },
    quiet: { type: 'flag', help: 'with --seed: the summary without the trace' },
    unsafe: { type: 'enums', values: Object.keys(UNSAFE) as (keyof typeof UNSAFE)[], help: 'test only: disable these safeguards' },
    'keep-going': { type: 'flag', help: 'do not stop at the first failing seed' },
  },
});
const unsafe: UnsafeFlags = {};
for (const u of args.unsafe) unsafe[UNSAFE[u]] = true;
const unsafeNote = args.unsafe.length ? ` unsafe=${args.unsafe.join(',')}` : '';

if (args.seed !== undefined) {
  const seed = args.seed;
  const r = await runSeed(seed, { unsafe, trace: true });
  if (!args.quiet) for (const l of r.trace ?? []) console.log(l);
  console.log(`seed ${seed} (${r.mode})${unsafeNote}: ${JSON.stringify(r.stats)}`);
  if (r.violations.length) {
    console.log(`sim: seed=${seed} violations=${r.violations.length}`);
    for (const v of r.violations) console.log(`  VIOLATION ${v}`);
    process.exit(1);
  }
  console.log(`sim: seed=${seed} violations=0`);
  process.exit(0);
}

const res = await runSeeds(args.from, args.seeds, { unsafe, stopAtFirst: !args['keep-going'] });
const t = res.totals;
console.log(
  `sim: seeds=${res.seeds} violations=${res.failing.length} runs/s=${res.runsPerSec.toFixed(0)}` +
    ` (${(res.elapsedMs / 1000).toFixed(1)}s; failovers=${t.failovers} clones=${t.clones} halts=${t.halts} flow-pauses=${t.pauses} slowdowns=${t.slowdowns} stalls=${t.stalls} vm-lost=${t.lost};` +
    ` cluster: tabs=${t.tabs} hints=${t.hints} members-left=${t.membersLeft} clone-retries=${t.cloneRetries};` +
    ` packets: transmitted=${t.packetsOut} output-rule-checked=${t.packetsRuleChecked} replies-checked=${t.packetReplies})${unsafeNote}`,
);
if (res.failing.length > 0) {
  for (const f of res.failing.slice(0, 5)) {
    console.log(`FAILING seed ${f.seed} (${f.mode}): reproduce with: npm run sim -- --seed ${f.seed}${unsafeNote ? ` --unsafe ${args.unsafe.join(',')}` : ''}`);
    for (const v of f.violations.slice(0, 5)) console.log(`  ${v}`);
  }
  process.exit(1);
}
