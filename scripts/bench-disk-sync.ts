// npm run bench:disk-sync: how should FT VMotion synchronise a new backup's own disk copy
// (non-shared disk, paper 4.1)? Two ways, measured side by side in one Chromium page:
//   idb-copy: read the primary's copy and write the backup's, IndexedDB to IndexedDB (possible
//             only because all tabs share one origin);
//   ship:     read it, send the bytes over an RTCDataChannel the way the logging channel does
//             (64 KiB chunks, 1 MiB high water), and write them on the other side (what Lockstep
//             does between workers of one page; between tabs the whole clone message, disk image
//             included, goes through IndexedDB, src/storage/bulk-store.ts).
// Lockstep ships: the copy into another host's database would have to finish before the clone
// starts (inside the guest's pause), whereas shipping only reads inside the pause and transfers
// while the guest runs; and the primary never writes another host's disk (long-distance FT).
// Sizes: 144 blocks (what boot + a few `kv set` leave on the disk), 1024 and 4096 (the whole 16 MiB disk).
import { cli } from "./lib/args.ts";
import { blankPage, withBrowser } from "./lib/browser.ts";
import { median } from "./lib/stats.ts";

const SIZES = [144, 1024, 4096];
const RUNS = 5;

cli({
  usage: "npm run bench:disk-sync",
  about: `A new backup's own disk copy synchronised by IndexedDB-to-IndexedDB copy vs shipped over a data channel, ${SIZES.join("/")} blocks, median of ${RUNS}.`,
  options: {},
});

const samples = await withBrowser(blankPage, async ({ url, browser }) => {
  const page = await browser.newPage();
  await page.goto(url);
  // tsx (esbuild keepNames) wraps the evaluated function's inner functions in __name(): define it there.
  await page.evaluate("globalThis.__name = (f) => f");

  return page.evaluate(
    async ({ sizes, runs }) => {
      type Row = { disk: string; index: number; data: Uint8Array };
      const req = <T>(r: IDBRequest<T>) => new Promise<T>((res, rej) => ((r.onsuccess = () => res(r.result)), (r.onerror = () => rej(r.error))));
      const done = (tx: IDBTransaction) => new Promise<void>((res, rej) => ((tx.oncomplete = () => res()), (tx.onerror = tx.onabort = () => rej(tx.error))));
      const open = (name: string) => {
        const r = indexedDB.open(name, 1);
        r.onupgradeneeded = () => r.result.createObjectStore("blocks", { keyPath: ["disk", "index"] });
        return req(r);
      };
      const range = IDBKeyRange.bound(["d", 0], ["d", Number.MAX_SAFE_INTEGER]);
      const exportAll = (db: IDBDatabase) => req(db.transaction("blocks").objectStore("blocks").getAll(range)) as Promise<Row[]>;
      const importAll = (db: IDBDatabase, rows: Row[]) => {
        const tx = db.transaction("blocks", "readwrite");
        const s = tx.objectStore("blocks");
        s.delete(range);
        for (const r of rows) s.put(r);
        return done(tx);
      };

      // A loopback data channel, configured like the logging channel.
      const a = new RTCPeerConnection();
      const b = new RTCPeerConnection();
      a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
      b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
      const dc = a.createDataChannel("log", { ordered: true });
      const remote = new Promise<RTCDataChannel>((res) => (b.ondatachannel = (e) => res(e.channel)));
      await a.setLocalDescription();
      await b.setRemoteDescription(a.localDescription!);
      await b.setLocalDescription();
      await a.setRemoteDescription(b.localDescription!);
      const rx = await remote;
      rx.binaryType = "arraybuffer";
      if (dc.readyState !== "open") await new Promise((r) => (dc.onopen = r));
      dc.bufferedAmountLowThreshold = 256 * 1024;
      const ship = async (bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> => {
        const out = new Uint8Array(bytes.length);
        let got = 0;
        const all = new Promise<void>((res) => {
          rx.onmessage = (e: MessageEvent<ArrayBuffer>) => {
            out.set(new Uint8Array(e.data), got);
            got += e.data.byteLength;
            if (got >= bytes.length) res();
          };
        });
        for (let p = 0; p < bytes.length; p += 65536) {
          if (dc.bufferedAmount > 1 << 20) await new Promise((r) => (dc.onbufferedamountlow = r));
          dc.send(bytes.subarray(p, p + 65536));
        }
        await all;
        return out;
      };
      const BS = 4096;
      const encode = (rows: Row[]) => {
        const buf = new Uint8Array(rows.length * (BS + 4));
        const view = new DataView(buf.buffer);
        rows.forEach((r, i) => {
          view.setUint32(i * (BS + 4), r.index, true);
          buf.set(r.data, i * (BS + 4) + 4);
        });
        return buf;
      };
      const decode = (buf: Uint8Array): Row[] => {
        const view = new DataView(buf.buffer);
        const rows: Row[] = [];
        for (let o = 0; o < buf.length; o += BS + 4) rows.push({ disk: "d", index: view.getUint32(o, true), data: buf.slice(o + 4, o + 4 + BS) });
        return rows;
      };
      const out: { blocks: number; idbCopyMs: number[]; shipMs: number[]; exportMs: number[] }[] = [];
      for (const n of sizes) {
        const src = await open(`src-${n}`);
        const rows: Row[] = [];
        for (let i = 0; i < n; i++) rows.push({ disk: "d", index: i * 3, data: crypto.getRandomValues(new Uint8Array(BS)) });
        await importAll(src, rows);
        const dstCopy = await open(`copy-${n}`);
        const dstShip = await open(`ship-${n}`);
        const copy: number[] = [];
        const shipped: number[] = [];
        const exported: number[] = [];
        for (let r = 0; r < runs; r++) {
          // Alternate the order so neither method always runs on a warmer cache.
          const one = async () => {
            const t = performance.now();
            await importAll(dstCopy, await exportAll(src));
            copy.push(performance.now() - t);
          };
          const two = async () => {
            const t = performance.now();
            const blocks = await exportAll(src);
            exported.push(performance.now() - t);
            await importAll(dstShip, decode(await ship(encode(blocks))));
            shipped.push(performance.now() - t);
          };
          if (r % 2 === 0) await one().then(two);
          else await two().then(one);
        }
        const check = [await exportAll(dstCopy), await exportAll(dstShip)].map((x) => x.length);
        if (check[0] !== n || check[1] !== n) throw new Error(`copied ${check.join("/")} blocks, wanted ${n}`);
        out.push({ blocks: n, idbCopyMs: copy, shipMs: shipped, exportMs: exported });
        for (const db of [src, dstCopy, dstShip]) db.close();
      }
      return out;
    },
    { sizes: SIZES, runs: RUNS },
  );
});
const results = samples.map((r) => ({ blocks: r.blocks, idbCopyMs: median(r.idbCopyMs), shipMs: median(r.shipMs), exportMs: median(r.exportMs) }));

for (const r of results) {
  console.log(
    `disk-sync ${r.blocks} blocks (${((r.blocks * 4096) / 1048576).toFixed(2)} MiB): idb-copy ${r.idbCopyMs.toFixed(1)} ms, ` +
      `ship ${r.shipMs.toFixed(1)} ms, ship/idb-copy ${(r.shipMs / r.idbCopyMs).toFixed(2)}; ` +
      `guest pause added: ship ${r.exportMs.toFixed(1)} ms (export only), idb-copy ${r.idbCopyMs.toFixed(1)} ms (median of ${RUNS})`,
  );
}
