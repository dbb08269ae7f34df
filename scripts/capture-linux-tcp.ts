// npx tsx scripts/capture-linux-tcp.ts: records what the guest's real Linux TCP sends to the
// client (src/net) for one HTTP GET of a ~24 KB file, into tests/unit/net/fixtures/linux-get.json.
// The unit tests replay these frames into a fresh client (same ISN, same addresses) as they
// came, duplicated and reordered: the client must deliver the same bytes.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { MemoryBlockDevice } from "../src/engine/block-device.ts";
import { realDateNow, realNow } from "../src/engine/clock.ts";
import { ConsoleLog, recordUntil } from "../src/engine/drive.ts";
import { LockstepEngine } from "../src/engine/engine.ts";
import { initialDisk, loadGuest } from "../src/engine/node/host.ts";
import { makeSession } from "../src/engine/session.ts";
import { ClientStack } from "../src/net/client-stack.ts";
import { HttpGet } from "../src/net/http-get.ts";
import { ROOT } from "./lib/paths.ts";

const ISN = 0x1234_5678;
const guest = loadGuest();
const rec = await LockstepEngine.create({
  mode: "record", wasm: guest.wasm, images: guest.images, session: makeSession(realDateNow()), disk: new MemoryBlockDevice(initialDisk(guest)),
});
const con = new ConsoleLog();
await recordUntil(rec, () => con.text.includes(guest.manifest.prompt), { onFrame: () => con.pull(rec), timeoutMs: 240_000 });
rec.sendSerial('mkdir -p /data/www && seq 1 5000 > /data/www/s.txt && echo cre""ated\n');
await recordUntil(rec, () => con.text.includes("created\r\n"), { onFrame: () => con.pull(rec) });
const fromGuest: string[] = [];
const stack = new ClientStack({ mac: "02:00:00:00:00:02", ip: "10.0.2.2", isn: () => ISN }, (f) => rec.receivePacket(f));
const g = new HttpGet(stack, "10.0.2.15", 80, "/files/s.txt", realNow());
await recordUntil(rec, () => g.response !== null || g.error !== null, {
  onFrame: () => {
    for (const p of rec.takePackets()) {
      fromGuest.push(Buffer.from(p.bytes).toString("base64"));
      stack.receive(p.bytes, realNow());
    }
  },
});
if (!g.response) throw new Error(`capture failed: ${g.error}`);
const out = path.join(ROOT, "tests/unit/net/fixtures/linux-get.json");
writeFileSync(out, JSON.stringify({ about: "frames the guest's Linux 6.1 sent for GET /files/s.txt (seq 1 5000); client isn 0x12345678, 10.0.2.2 -> 10.0.2.15:80", isn: ISN, path: "/files/s.txt", fromGuest }, null, 1) + "\n");
console.log(`captured ${fromGuest.length} frames, body ${g.response.body.length} bytes -> ${path.relative(ROOT, out)}`);
process.exit(0);
