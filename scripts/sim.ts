/**
 * Seeded fault simulator (src/sim): the real cluster service (src/cluster), host driver (src/host)
 * and FT protocol (src/ft/protocol) on a toy deterministic engine, under injected faults.
 *
 *   npm run sim -- --seeds N [--from S]      run seeds S..S+N-1 (S defaults to 1)
 *   npm run sim -- --seed S [--quiet]        reproduce one seed and print its trace
 *   --unsafe no-output-rule|no-test-and-set|no-fencing|no-power-off-wait   (test-only: disable a safeguard)
 *   --keep-going                             do not stop at the first failing seed
 *   --jobs J                                 split the seeds over J processes (one per core)
 */
import { spawn } from 'node:child_process';
import { runSeed, runSeeds, type BatchResult } from '../src/sim/run.ts';
import type { UnsafeFlags } from '../src/ft/protocol/config.ts';
import { cli } from './lib/args.ts';

const UNSAFE = { 'no-output-rule': 'noOutputRule', 'no-test-and-set': 'noTestAndSet', 'no-fencing': 'noFencing', 'no-power-off-wait': 'noPowerOffWait' } as const;
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
    jobs: { type: 'int', min: 1, max: 64, default: 1, help: 'split the seeds over this many processes (each seed runs the same wherever it runs)' },
    json: { type: 'flag', help: 'print the batch result as one JSON line (what --jobs reads from each process)' },
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

/** Seeds from..from+count-1 in `jobs` processes, each a contiguous share; their results summed. */
async function sharded(from: number, count: number, jobs: number): Promise<BatchResult> {
  const t0 = performance.now();
  const size = Math.ceil(count / jobs);
  const shares = Array.from({ length: jobs }, (_, i) => ({ from: from + i * size, n: Math.min(size, count - i * size) })).filter((s) => s.n > 0);
  const results = await Promise.all(
    shares.map(
      (sh) =>
        new Promise<BatchResult>((resolve, reject) => {
          const argv = ['tsx', 'scripts/sim.ts', '--json', '--from', String(sh.from), '--seeds', String(sh.n)];
          if (args.unsafe.length) argv.push('--unsafe', args.unsafe.join(','));
          if (args['keep-going']) argv.push('--keep-going');
          const child = spawn('npx', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.on('close', () => {
            const line = out.trim().split('\n').at(-1) ?? '';
            try {
              resolve(JSON.parse(line) as BatchResult);
            } catch {
              reject(new Error(`sim share from seed ${sh.from} printed no result: ${out.slice(-500)}`));
            }
          });
        }),
    ),
  );
  const totals = { ...results[0]!.totals };
  for (const r of results.slice(1)) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.totals[k];
  const seeds = results.reduce((n, r) => n + r.seeds, 0);
  const elapsedMs = performance.now() - t0;
  return { seeds, failing: results.flatMap((r) => r.failing), runsPerSec: (seeds * 1000) / elapsedMs, elapsedMs, totals };
}

const res = args.jobs > 1 ? await sharded(args.from, args.seeds, args.jobs) : await runSeeds(args.from, args.seeds, { unsafe, stopAtFirst: !args['keep-going'] });
if (args.json) {
  console.log(JSON.stringify({ ...res, failing: res.failing.map((f) => ({ seed: f.seed, mode: f.mode, violations: f.violations, stats: f.stats })) }));
  process.exit(0);
}
const t = res.totals;
console.log(
  `sim: seeds=${res.seeds} violations=${res.failing.length} runs/s=${res.runsPerSec.toFixed(0)}${args.jobs > 1 ? ` jobs=${args.jobs}` : ''}` +
    ` (${(res.elapsedMs / 1000).toFixed(1)}s; failovers=${t.failovers} clones=${t.clones} halts=${t.halts} flow-pauses=${t.pauses} slowdowns=${t.slowdowns} stalls=${t.stalls} vm-lost=${t.lost};` +
    ` cluster: tabs=${t.tabs} hints=${t.hints} members-left=${t.membersLeft} clone-retries=${t.cloneRetries};` +
    ` packets: transmitted=${t.packetsOut} output-rule-checked=${t.packetsRuleChecked} replies-checked=${t.packetReplies};` +
    ` power-offs: ${t.powerOffs} (fenced ${t.powerOffsFenced}, overtaken ${t.powerOffsOvertaken}))${unsafeNote}`,
);
if (res.failing.length > 0) {
  for (const f of res.failing.slice(0, 5)) {
    console.log(`FAILING seed ${f.seed} (${f.mode}): reproduce with: npm run sim -- --seed ${f.seed}${unsafeNote ? ` --unsafe ${args.unsafe.join(',')}` : ''}`);
    for (const v of f.violations.slice(0, 5)) console.log(`  ${v}`);
  }
  process.exit(1);
}
