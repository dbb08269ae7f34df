// npm run replay-check [-- --workload FILE] [--clone-after N] [--net off] [--jit off] [--checkpoint-every N] [--browser]
//
// --browser: instead, runs the pair in headless Chromium (Vite dev server + Playwright): primary
// and backup in two module workers of one page, the log over a MessageChannel; the workload's
// lines are typed (delays ignored); prints replay: mode=browser ... the same way.
//
// Boots the guest in the recorder (primary), runs a scripted workload, takes an FT VMotion
// clone in the middle, and replays the recorded log (a) from boot and (b) from the clone's
// snapshot. Prints, per mode:
//   replay: mode=<boot|clone> frames=F checkpoints=C divergences=0 console=identical
// and exits non-zero on any divergence or difference. Node only, no browser.
//
// With the network (the default, --net on) the console workload runs whole, then the client
// TCP/IP of src/net fetches from the guest's httpd: a page, a key set over HTTP, and a
// multi-MiB file, with the clone taken in the middle of that download (segments in flight).

import { readFileSync } from "node:fs";
import path from "node:path";
import { encodeBatch } from "../src/ft/log/codec.ts";
import { MemoryBlockDevice } from "../src/engine/block-device.ts";
import { realDateNow, realNow } from "../src/engine/clock.ts";
import { ConsoleLog, parseWorkload, recordUntil, replayBacklog, runWorkload } from "../src/engine/drive.ts";
import { DivergenceError, LockstepEngine, type CloneResult } from "../src/engine/engine.ts";
import { initialDisk, loadGuest } from "../src/engine/node/host.ts";
import { makeSession } from "../src/engine/session.ts";
import { cli } from "./lib/args.ts";
import { expectedFile, netDriver, sha256 } from "./lib/net-workload.ts";
import { DEFAULT_WORKLOAD } from "./lib/paths.ts";

const { options: args } = cli({
  usage: "npm run replay-check -- [options]",
  about: "Records a guest workload, takes an FT VMotion clone midway, and replays the log from boot and from the clone, bit for bit.",
  options: {
    workload: { type: "string", metavar: "FILE", help: "the workload to type (default tests/workloads/default.txt)" },
    "clone-after": { type: "int", min: 0, help: "take the clone after this workload line, by default the middle one" },
    jit: { type: "enum", values: ["on", "off"], default: "on", help: "off: interpreter only (debug)" },
    net: { type: "enum", values: ["on", "off"], default: "on", help: "on: a network workload after the console one, cloned mid-download" },
    "file-mib": { type: "int", min: 1, max: 12, default: 2, help: "with --net on: size of the file downloaded" },
    "checkpoint-every": { type: "int", min: 1, default: 256, help: "frames between state checkpoints" },
    browser: { type: "flag", help: "run the pair in headless Chromium instead (Vite dev server, two module workers)" },
    port: { type: "int", min: 1, max: 65535, default: 5191, help: "with --browser: the dev server's port" },
  },
});

const t0 = realNow();
const workloadFile = args.workload ?? DEFAULT_WORKLOAD;
if (args.browser) process.exit(await browserCheck(parseWorkload(readFileSync(workloadFile, "utf8")).map((l) => l.text)));
const lines = parseWorkload(readFileSync(workloadFile, "utf8"));
if (lines.length === 0) throw new Error(`${workloadFile}: no workload lines`);
const withNet = args.net === "on";
const cloneAfter = withNet ? -1 : (args["clone-after"] ?? Math.floor((lines.length - 1) / 2));
const jit = args.jit === "on";
const checkpointEvery = args["checkpoint-every"];
const BATCH_FRAMES = 256;

const guest = loadGuest();
const session = makeSession(realDateNow(), { jit, checkpointEvery });
const disk = new MemoryBlockDevice(initialDisk(guest));
const prompt = guest.manifest.prompt;

console.log(
  `replay-check: workload=${path.relative(process.cwd(), workloadFile)} lines=${lines.length} clone-after=${cloneAfter} jit=${jit ? "on" : "off"} ` +
    `memory=${guest.images.memoryMb}MiB checkpoint-every=${checkpointEvery}`,
);

// ---------------------------------------------------------------- record
const rec = await LockstepEngine.create({ mode: "record", wasm: guest.wasm, images: guest.images, session, disk });
const recCon = new ConsoleLog();
const batches: Uint8Array[] = [];
let logBytes = 0;
let pendingFrames = 0;
const flush = () => {
  const frames = rec.takeFrames();
  pendingFrames = 0;
  if (frames.length === 0) return;
  const b = encodeBatch(frames);
  batches.push(b);
  logBytes += b.length;
};
const onFrame = () => {
  recCon.pull(rec);
  if (++pendingFrames >= BATCH_FRAMES) flush();
};

await recordUntil(rec, () => recCon.text.includes(prompt), { onFrame, timeoutMs: 240_000 });
const bootMs = realNow() - t0;
console.log(
  `record: booted to prompt in ${(bootMs / 1000).toFixed(1)} s real, ${(rec.nowMs() / 1000).toFixed(1)} s guest, frame ${rec.frame}`,
);

let clone: CloneResult | null = null;
let netFailures = 0;
let cloneBatch = -1;
let cloneConsole = 0;
await rec.prewarm();
await runWorkload(rec, recCon, lines, prompt, {
  onFrame: () => {
    if (++pendingFrames >= BATCH_FRAMES) flush();
  },
  afterLine: async (i) => {
    if (i === cloneAfter) await takeClone();
  },
});
if (withNet) await networkWorkload();

async function takeClone(): Promise<void> {
  flush();
  const c = await rec.clone();
  clone = c;
  cloneBatch = batches.length;
  cloneConsole = rec.consoleBytes;
  console.log(
    `record: clone ${c.cloneId} at frame ${c.frame}: snapshot ${(c.snapshot.length / 1e6).toFixed(1)} MB, ` +
      `guest-visible pause ${c.pauseMs.toFixed(0)} ms (save ${c.saveMs.toFixed(0)} + restore ${c.restoreMs.toFixed(0)} + encode/hash ${c.encodeMs.toFixed(0)} ms), ` +
      `v86 restore repaired ${c.repairedOffsets.length} CPU bytes`,
  );
}

/** Page, kv over HTTP, then a file download with the clone in its middle; checks every answer. */
async function networkWorkload(): Promise<void> {
  const t = realNow();
  const net = netDriver(rec, () => {
    recCon.pull(rec);
    if (++pendingFrames >= BATCH_FRAMES) flush();
  });
  const page = await net.fetch("/");
  const pageOk = page.status === 200 && new TextDecoder().decode(page.body).includes("Lockstep guest");
  const kv = await net.fetch("/cgi-bin/kv?op=set&key=net&value=over%20http");
  const kvGet = await net.fetch("/cgi-bin/kv?op=get&key=net");
  const kvOk = kv.status === 200 && new TextDecoder().decode(kvGet.body).trim() === "over http";
  const mib = args["file-mib"];
  const made = new TextDecoder().decode((await net.fetch(`/cgi-bin/mkfile?mib=${mib}`)).body).trim().split(" ");
  const want = sha256(expectedFile(mib));
  const dl = net.get(made[0] ?? "/files/missing");
  await net.run(() => dl.bytesReceived >= (mib * 1048576) / 3 || dl.response !== null || dl.error !== null);
  if (dl.response || dl.error) throw new Error(`network: the download ended before the clone (${dl.error ?? "complete"})`);
  await takeClone();
  await net.run(() => dl.response !== null || dl.error !== null);
  // (read through a cast: TypeScript keeps the narrowing of the check above across the awaits)
  const done = dl as { response: { body: Uint8Array } | null; error: string | null };
  const got = done.response ? sha256(done.response.body) : `failed: ${done.error}`;
  const s = dl.conn.stats;
  console.log(
    `net: page ${pageOk ? "ok" : "WRONG"}, kv over HTTP ${kvOk ? "ok" : "WRONG"}, ${made[0]} ${dl.bytesReceived} bytes ` +
      `sha256 ${got === want && made[2] === want ? "ok" : `WRONG (got ${got}, guest ${made[2]}, want ${want})`}, one connection through the clone; ` +
      `${rec.stats.netPacketsIn} packets in, ${rec.stats.netPacketsOut} out, ${s.timeouts} timeouts, ${s.duplicates} duplicates; ${((realNow() - t) / 1000).toFixed(1)} s real`,
  );
  if (!pageOk || !kvOk || got !== want || made[2] !== want) netFailures++;
}
// A little idle time at the shell after the workload.
await recordUntil(rec, (() => {
  const end = realNow() + 1000;
  return () => realNow() >= end;
})(), { onFrame: () => { recCon.pull(rec); if (++pendingFrames >= BATCH_FRAMES) flush(); } });
flush();
recCon.pull(rec);
const recEnd = rec.position();
const recHash = rec.stateHash();
const recStats = { ...rec.stats };
const recordMs = realNow() - t0;
console.log(
  `record: ${recEnd.frame} frames, ${(recEnd.icount / 1e9).toFixed(2)} G instructions, ${(rec.nowMs() / 1000).toFixed(1)} s guest, ` +
    `${recStats.checkpoints} checkpoints, ${recStats.cutFrames} frames cut short (10 ms budget), log ${(logBytes / 1024).toFixed(0)} KiB in ${batches.length} batches ` +
    `(${recStats.diskCacheHits} disk reads, ${(recStats.diskCacheHitBytes / 1024).toFixed(0)} KiB, served from the backup's disk cache), ` +
    `${(recordMs / 1000).toFixed(1)} s real`,
);
rec.destroy();
if (!clone) throw new Error(`workload has no line ${cloneAfter} to clone after`);
const cloneRes = clone as CloneResult;

// ---------------------------------------------------------------- replay
let failures = netFailures;

async function replay(mode: "boot" | "clone"): Promise<void> {
  const start = realNow();
  const rep = await LockstepEngine.create({
    mode: "replay",
    wasm: guest.wasm,
    images: guest.images,
    session,
    snapshot: mode === "clone" ? cloneRes.snapshot : undefined,
  });
  const createMs = realNow() - start;
  const con = new ConsoleLog();
  const firstFrame = rep.frame;
  const from = mode === "clone" ? cloneBatch : 0;
  let divergences = 0;
  let report = "";
  try {
    for (let i = from; i < batches.length; i++) rep.pushBatch(batches[i]);
    await replayBacklog(rep, () => con.pull(rep));
  } catch (e) {
    if (!(e instanceof DivergenceError)) throw e;
    divergences++;
    const r = e.report;
    report = `first divergent frame ${r.frame} at icount ${r.icount}: ${r.what}: expected ${r.expected}, got ${r.actual}`;
  }
  con.pull(rep);
  const frames = rep.frame - firstFrame;
  const expectConsole = recCon.bytes().subarray(mode === "clone" ? cloneConsole : 0);
  const gotConsole = con.bytes();
  const consoleSame = gotConsole.length === expectConsole.length && gotConsole.every((b, i) => b === expectConsole[i]);
  const pos = rep.position();
  const hashSame = divergences === 0 && pos.frame === recEnd.frame && pos.icount === recEnd.icount && rep.stateHash() === recHash;
  if (divergences === 0 && !hashSame) {
    divergences++;
    report = `final state differs: replayer at ${pos.frame}:${pos.icount} hash ${rep.stateHash()}, recorder at ${recEnd.frame}:${recEnd.icount} hash ${recHash}`;
  }
  console.log(
    `replay: mode=${mode} frames=${frames} checkpoints=${rep.stats.checkpoints} divergences=${divergences} console=${consoleSame ? "identical" : "DIFFERENT"}`,
  );
  console.log(
    `  (${((realNow() - start) / 1000).toFixed(1)} s real incl. ${(createMs / 1000).toFixed(1)} s machine setup, ` +
      `${(rep.stats.instructions / 1e6 / ((realNow() - start - createMs) / 1000)).toFixed(0)} MIPS; final state ${hashSame ? "identical" : "DIFFERENT"}${report ? "; " + report : ""})`,
  );
  if (divergences > 0 || !consoleSame) failures++;
  rep.destroy();
}

await replay("boot");
await replay("clone");
console.log(`replay-check: ${failures === 0 ? "PASS" : "FAIL"} in ${((realNow() - t0) / 1000).toFixed(1)} s`);
process.exit(failures === 0 ? 0 : 1);

async function browserCheck(commands: string[]): Promise<number> {
  const { devServer, withBrowser } = await import("./lib/browser.ts");
  return withBrowser(() => devServer(args.port, ".vite-replay-check"), async ({ url: base, browser }) => {
    const page = await browser.newPage();
    page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
    const url = `${base}src/engine/browser/pair.html?commands=${encodeURIComponent(commands.join("|"))}`;
    await page.goto(url);
    const r = (await page.evaluate("window.__lockstepPair")) as
      | { error: string }
      | import("../src/engine/browser/pair-types.ts").PairResult;
    if ("error" in r) {
      console.log(`replay: mode=browser failed: ${r.error}`);
      return 1;
    }
    const divergences = r.backup.divergence ? 1 : 0;
    const sameCk =
      r.primary.checkpoints.length === r.backup.checkpoints.length &&
      r.primary.checkpoints.every((c, i) => JSON.stringify(c) === JSON.stringify(r.backup.checkpoints[i]));
    console.log(
      `replay: mode=browser frames=${r.backup.frames} checkpoints=${r.backup.checkpoints.length} divergences=${divergences} ` +
        `console=${r.primary.console === r.backup.console ? "identical" : "DIFFERENT"}`,
    );
    console.log(
      `  (Chromium, 2 module workers + MessageChannel; checkpoints ${sameCk ? "identical" : "DIFFERENT"}, final state ` +
        `${r.primary.stateHash === r.backup.stateHash ? "identical" : "DIFFERENT"}; primary ${(r.primary.realMs / 1000).toFixed(1)} s, ` +
        `backup ${(r.backup.realMs / 1000).toFixed(1)} s${r.backup.divergence ? "; " + r.backup.divergence : ""})`,
    );
    return r.identical ? 0 : 1;
  });
}
