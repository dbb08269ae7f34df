import type { OnePageHook } from "../../src/ui/test-hook.ts";
import { chromium, expect, test, type BrowserContext, type Page } from "@playwright/test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHROMIUM_ARGS, CHROMIUM_PATH, TEST_CONTEXT } from "../chromium.ts";
import { decodeBatch, encodeBatch } from "../../src/ft/log/codec.ts";
import { decodeRecording, encodeRecording } from "../../src/engine/recording.ts";
import { BOOT_IMAGE_FRAME, hostRole, hostState, poll, run, shows, waitForLockstep } from "./ft.ts";

// One page (one boot) for the whole file: the tests run in order on the same pair of VMs.
test.describe.configure({ mode: "serial" });

let context: BrowserContext;
let page: Page;
let dir: string;
/** The frame at which the first test paused the VM (the next one stepped, then it resumed). */
let pausedAt = -1;

test.beforeAll(async ({ baseURL }) => {
  dir = mkdtempSync(path.join(tmpdir(), "lockstep-timeline-"));
  context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    baseURL,
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    ...TEST_CONTEXT,
  });
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto("/");
  await waitForLockstep(page);
  // Still in lockstep once the shell is up: a host stalled by the machine's load is told of its
  // stall (src/host/stall-feed.ts), so a failover here would be a bug, not something to boot past.
  expect([(await status("A#1"))?.state, (await status("B#1"))?.state]).toEqual(["recording", "replaying"]);
});

// On failure, the protocol feed says whether the load of the machine caused a failover.
test.afterEach(async ({}, info) => {
  if (info.status === info.expectedStatus) return;
  const ev = await page.evaluate(() => (window.lockstep as OnePageHook).cluster.events.map((e) => `${(e.at / 1000).toFixed(2)} ${e.hostId} ${e.kind}: ${e.text}`));
  console.log("EVENTS\n" + ev.slice(-40).join("\n"));
});

test.afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Flow {
  received: { heartbeat: number };
}
type St = { frame: number; role: string; state: string; vm?: { paused: boolean }; flow?: Flow } | null;
const status = (id: string) =>
  page.evaluate((hid) => {
    const h = (window.lockstep as OnePageHook).cluster.hosts.find((x) => x.id === hid);
    return h?.status ?? null;
  }, id) as Promise<St>;
const frame = async (id: string) => (await status(id))!.frame;
const heartbeatsAtBackup = async () => (await status("B#1"))!.flow!.received.heartbeat;

/** Waits until the backup has received `n` more heartbeats: the hosts are alive while time passes. */
async function heartbeatsPass(n: number): Promise<void> {
  const h0 = await heartbeatsAtBackup();
  await poll(heartbeatsAtBackup, { timeout: 30_000 }).toBeGreaterThanOrEqual(h0 + n);
}

test("pause freezes the VM without a failover; step runs exactly one frame", async () => {
  await page.locator("h1").click(); // shortcuts act outside the client console
  await page.keyboard.press("p");
  await expect(page.getByTestId("vm-state")).toContainText("VM paused at frame");
  await expect(page.getByRole("article", { name: "A#1 host" }).getByText("VM paused")).toBeVisible();
  const f0 = await frame("A#1");
  pausedAt = f0;
  // Longer than the 0.5 s failure timeout (heartbeats every 50 ms): nobody may take over.
  await heartbeatsPass(30);
  expect(await frame("A#1")).toBe(f0);
  await shows(hostRole(page, "A#1"), "primary");
  await shows(hostState(page, "A#1"), "recording");
  await shows(hostState(page, "B#1"), "replaying");
  // The backup replayed everything the paused primary logged: it stands at the same frame.
  await poll(() => frame("B#1")).toBe(f0);

  await page.keyboard.press("f");
  await poll(() => frame("A#1")).toBe(f0 + 1);
  await heartbeatsPass(5);
  expect(await frame("A#1")).toBe(f0 + 1);
  await poll(() => frame("B#1")).toBe(f0 + 1);

  await page.getByRole("button", { name: "Resume VM" }).click();
  await expect(page.getByTestId("vm-state")).toHaveText("VM running");
  await poll(() => frame("A#1")).toBeGreaterThan(f0 + 1);
  // Speed: slower with [, back to real time with ].
  await page.keyboard.press("[");
  await expect(page.getByTestId("vm-state")).toHaveText("VM running at 0.5×");
  await page.keyboard.press("]");
  await expect(page.getByTestId("vm-state")).toHaveText("VM running");
  await shows(hostState(page, "A#1"), "recording");
});

test("export, import and replay: identical checkpoints, scrubbing back, the live run undisturbed", async () => {
  await run(page, "kv set tlkey tlvalue42", "OK");
  await run(page, "kv get tlkey", "tlvalue42");
  // Three seconds of guest time in the recording: at one checkpoint per 250 ms of it at least
  // (session.checkpointMs), the replay below compares more than ten, however fast the host ran.
  await run(page, "sleep 3; echo slept", "slept");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export recording" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^lockstep-.*\.lsrec$/);
  const file = path.join(dir, download.suggestedFilename());
  await download.saveAs(file);
  const liveBefore = await frame("A#1");

  await page.getByLabel("Import recording").setInputFiles(file);
  const verdict = page.getByTestId("replay-check");
  await expect(verdict).toContainText(/Checkpoints replayed: (\d+) of \1,/, { timeout: 120_000 });
  await expect(verdict).toHaveAttribute("data-ok", "true");
  const { recorded, replayed } = await page.evaluate(() => {
    const t = (window.lockstep as OnePageHook).timeline;
    return { recorded: t.summary?.recordedCheckpoints ?? [], replayed: t.view?.replayedCheckpoints ?? [] };
  });
  expect(recorded.length).toBeGreaterThan(10);
  expect(replayed).toEqual(recorded);
  const screen = page.getByTestId("replay-console");
  await expect(screen).toContainText(/^tlvalue42$/m);

  // Each typed command is a mark of its own, apart from the terminal's replies to the guest.
  await expect(page.getByRole("button", { name: /^Input at frame \d+: kv set tlkey tlvalue42$/ })).toHaveCount(1);
  await expect(page.getByRole("button", { name: /^Input at frame \d+: kv get tlkey$/ })).toHaveCount(1);
  await expect(page.getByRole("list", { name: "Timeline legend" })).toContainText("a line typed into the client");
  // The track keeps its scale while the live run goes on: a mark stays where it was.
  const setMark = page.getByRole("button", { name: /^Input at frame \d+: kv set tlkey/ });
  const left = await setMark.evaluate((el) => (el as HTMLElement).style.left);
  const liveAt = await frame("A#1");
  await poll(() => frame("A#1")).toBeGreaterThan(liveAt + 200);
  expect(await setMark.evaluate((el) => (el as HTMLElement).style.left)).toBe(left);

  // Scrub back to the boundary before the `kv set` input: booted (the boot transcript the
  // recording carries from the boot image), but nothing of the command yet.
  const mark = page.getByRole("button", { name: /^Input at frame \d+: .*kv set tlkey/ });
  const markFrame = Number((await mark.getAttribute("aria-label"))!.match(/frame (\d+)/)![1]);
  await mark.click();
  await expect(page.getByTestId("replay-position")).toContainText(`At frame ${markFrame.toLocaleString("en-US")} `);
  await expect(screen).toContainText("LOCKSTEP READY");
  await expect(screen).not.toContainText("tlvalue42");
  await expect(screen).not.toContainText("kv set tlkey");
  // The log entry at the mark, inspectable: its kind and position, and the replay stands at that
  // very instruction (§2.1's "at the same instruction", shown).
  const serial = page.getByTestId("log-entries").locator('tr[data-kind="serial"]');
  await expect(serial).toContainText(`frame ${markFrame.toLocaleString("en-US")} · instruction`);
  await expect(serial).toContainText('"k');
  await expect(page.getByTestId("same-instruction")).toHaveAttribute("data-same", "true");
  // Going back to frames the replay passed is recalled from its frame index, not re-run from boot
  // (1.9–2.5 s before): the mark's seek and one frame further back (","), each in milliseconds.
  const position = page.getByTestId("replay-position");
  await expect(position).toContainText(/ · recalled \d+ ms/);
  await page.locator("h1").click();
  await page.keyboard.press(",");
  await expect(position).toContainText(`At frame ${(markFrame - 1).toLocaleString("en-US")} `);
  const recalledMs = Number(/ · recalled (\d+) ms/.exec(await position.innerText())?.[1]);
  console.log(`one frame back: recalled in ${recalledMs} ms`);
  expect(recalledMs).toBeLessThan(100);
  await expect(screen).not.toContainText("kv set tlkey");
  // The full state hash there, on demand: replayed again from the start.
  await position.getByRole("button", { name: "compute it" }).click();
  await expect(position).toContainText(/state hash [0-9a-f]{16} · seek \d+ ms/, { timeout: 120_000 });
  await page.keyboard.press(".");
  await expect(position).toContainText(`At frame ${markFrame.toLocaleString("en-US")} `);
  // The next input in the log: the next key of the command, a later frame, inspectable the same way.
  await page.getByRole("button", { name: "Next input ▶" }).click();
  await poll(async () => Number((/At frame ([\d,]+) /.exec(await position.innerText())?.[1] ?? "0").replace(/,/g, ""))).toBeGreaterThan(markFrame);
  await expect(page.getByTestId("same-instruction")).toHaveAttribute("data-same", "true");
  await mark.click();
  await expect(position).toContainText(`At frame ${markFrame.toLocaleString("en-US")} `);

  // Meanwhile the live pair ran on, in lockstep, untouched.
  expect(await frame("A#1")).toBeGreaterThan(liveBefore);
  await shows(hostState(page, "A#1"), "recording");
  await shows(hostState(page, "B#1"), "replaying");
  await expect(page.getByRole("region", { name: "Protocol events" })).not.toContainText("host stopped");

  // The guest never saw the pause: neither the stepped frame nor the first one after the resume
  // starts with a clock resync (the host re-anchored its virtual clock instead).
  expect(pausedAt).toBeGreaterThan(0);
  const logged = decodeRecording(new Uint8Array(readFileSync(file))).batches.flatMap((b) => decodeBatch(b));
  for (const f of [pausedAt, pausedAt + 1]) expect(logged.find((l) => l.frame === f)!.entries.filter((e) => e.k === "clock")).toEqual([]);

  // A damaged file is refused as a whole: the loaded recording stays as it was.
  const damaged = readFileSync(file);
  damaged[Math.floor(damaged.length / 2)] ^= 0x10;
  await page.getByLabel("Import recording").setInputFiles({ name: "damaged.lsrec", mimeType: "application/octet-stream", buffer: damaged });
  await expect(page.getByTestId("timeline-error")).toContainText("damaged.lsrec rejected: recording checksum mismatch");
  await expect(page.getByTestId("replay-summary")).toContainText(download.suggestedFilename());
  await expect(page.getByTestId("replay-position")).toContainText(`At frame ${markFrame.toLocaleString("en-US")} `);

  // A well-formed file whose log disagrees with the guest (one checkpoint's CPU hash altered):
  // the replay stops at that frame and says what differed.
  const rec = decodeRecording(new Uint8Array(readFileSync(file)));
  const bi = rec.batches.findIndex((b) => decodeBatch(b).some((f) => f.entries.some((e) => e.k === "checkpoint")));
  const frames = decodeBatch(rec.batches[bi]!);
  const hit = frames.find((f) => f.entries.some((e) => e.k === "checkpoint"))!;
  for (const e of hit.entries) if (e.k === "checkpoint") e.cpu = (e.cpu ^ 1) >>> 0;
  rec.batches[bi] = encodeBatch(frames);
  await page.getByLabel("Import recording").setInputFiles({ name: "tampered.lsrec", mimeType: "application/octet-stream", buffer: Buffer.from(encodeRecording(rec)) });
  await expect(verdict).toContainText(`Replay diverged at frame ${hit.frame}: checkpoint: CPU state hash`);
  await expect(verdict).toHaveAttribute("data-ok", "false");
});

test("after a failover the promoted backup's recording still covers the run from its start (the boot image)", async () => {
  const beforeKill = await frame("A#1");
  await page.getByRole("button", { name: "Kill primary" }).click();
  await shows(hostRole(page, "B#1"), "primary", { timeout: 30_000 });
  await shows(hostState(page, "B#1"), "alone");
  await run(page, "kv get tlkey", "tlvalue42");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export recording" }).click()]);
  const rec = decodeRecording(new Uint8Array(readFileSync(await download.path())));
  expect(rec.meta).toMatchObject({ hostId: "B#1", origin: "image", start: { frame: BOOT_IMAGE_FRAME }, truncated: null });
  expect(rec.meta.end.frame).toBeGreaterThan(beforeKill);
  // Checkpoints B#1 verified while replaying A#1's log, and ones it computed live after the promotion.
  expect(rec.checkpoints[0]!.frame).toBeLessThan(BOOT_IMAGE_FRAME + 1000);
  expect(rec.checkpoints.at(-1)!.frame).toBeGreaterThan(beforeKill);
  // The input typed while A#1 was primary is in B#1's recording.
  const typed = rec.batches
    .flatMap((b) => decodeBatch(b))
    .flatMap((f) => f.entries)
    .map((e) => (e.k === "serial" ? new TextDecoder().decode(e.bytes) : ""))
    .join("");
  expect(typed).toContain("kv set tlkey tlvalue42");
});
