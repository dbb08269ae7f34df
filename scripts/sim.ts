/**
 * Seeded fault simulator (src/sim): the real host driver (src/host) and the FT protocol
 * (src/ft/protocol) on a toy deterministic engine, under injected faults.
 *
 *   npm run sim -- --seeds N [--from S]      run seeds S..S+N-1 (S defaults to 1)
 *   npm run sim -- --seed S [--quiet]        reproduce one seed and print its trace
 *   --unsafe no-output-rule|no-test-and-set|no-fencing   (test-only: disable a safeguard)
 *   --keep-going                             do not stop at the first failing seed
 */
import { runSeed, runSeeds } from '../src/sim/run.ts';
import type { UnsafeFlags } from '../src/ft/protocol/config.ts';

function parse(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      m.set(a.slice(2), next);
      i++;
    } else m.set(a.slice(2), 'true');
  }
  return m;
}

const args = parse(process.argv.slice(2));
const unsafe: UnsafeFlags = {};
for (const u of (args.get('unsafe') ?? '').split(',').filter(Boolean)) {
  if (u === 'no-output-rule') unsafe.noOutputRule = true;
  else if (u === 'no-test-and-set') unsafe.noTestAndSet = true;
  else if (u === 'no-fencing') unsafe.noFencing = true;
  else {
    console.error(`unknown --unsafe value ${u}`);
    process.exit(2);
  }
}
const unsafeNote = Object.keys(unsafe).length ? ` unsafe=${args.get('unsafe')}` : '';

if (args.has('seed')) {
  const seed = Number(args.get('seed'));
  const r = await runSeed(seed, { unsafe, trace: true });
  if (!args.has('quiet')) for (const l of r.trace ?? []) console.log(l);
  console.log(`seed ${seed} (${r.mode})${unsafeNote}: ${JSON.stringify(r.stats)}`);
  if (r.violations.length) {
    console.log(`sim: seed=${seed} violations=${r.violations.length}`);
    for (const v of r.violations) console.log(`  VIOLATION ${v}`);
    process.exit(1);
  }
  console.log(`sim: seed=${seed} violations=0`);
  process.exit(0);
}

const n = Number(args.get('seeds') ?? '1000');
const from = Number(args.get('from') ?? '1');
const res = await runSeeds(from, n, { unsafe, stopAtFirst: !args.has('keep-going') });
const t = res.totals;
console.log(
  `sim: seeds=${res.seeds} violations=${res.failing.length} runs/s=${res.runsPerSec.toFixed(0)}` +
    ` (${(res.elapsedMs / 1000).toFixed(1)}s; failovers=${t.failovers} clones=${t.clones} halts=${t.halts} flow-pauses=${t.pauses} slowdowns=${t.slowdowns} stalls=${t.stalls} vm-lost=${t.lost})${unsafeNote}`,
);
if (res.failing.length > 0) {
  for (const f of res.failing.slice(0, 5)) {
    console.log(`FAILING seed ${f.seed} (${f.mode}): reproduce with: npm run sim -- --seed ${f.seed}${unsafeNote ? ` --unsafe ${args.get('unsafe')}` : ''}`);
    for (const v of f.violations.slice(0, 5)) console.log(`  ${v}`);
  }
  process.exit(1);
}
