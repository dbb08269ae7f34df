// Disk write latency of the shared disk on etcd (issue 14): fenced 4 KiB writes, one at a time,
// as the guest's fsync'ed kv writes issue them, against Debian's etcd on loopback. Prints
// etcd-write-ms-p50/p99 and the read latency. (IndexedDB's side of the comparison needs a
// browser: not measured here.)
import { EtcdStorage } from "../src/storage/etcd/index.ts";
import { BLOCK_SIZE } from "../src/storage/index.ts";
import { startEtcd } from "../tests/helpers/etcd-server.ts";
import { cli } from "./lib/args.ts";

const { options: args } = cli({
  usage: "npm run bench:etcd-disk -- [options]",
  about: "Fenced 4 KiB writes and reads on the shared disk in etcd (loopback), one at a time.",
  options: { writes: { type: "int", min: 10, default: 300, help: "writes (and reads) measured" } },
});

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const etcd = await startEtcd();
try {
  const s = EtcdStorage.open(etcd.endpoint, "bench");
  await s.lock.testAndSet(0, "A#1");
  const disk = s.disk("d", 1024 * BLOCK_SIZE);
  const block = new Uint8Array(BLOCK_SIZE).fill(7);
  const w: number[] = [];
  const r: number[] = [];
  const partial: number[] = [];
  for (let i = 0; i < args.writes; i++) {
    let t = performance.now();
    await disk.write((i % 1024) * BLOCK_SIZE, block, 1);
    w.push(performance.now() - t);
    t = performance.now();
    await disk.write((i % 1024) * BLOCK_SIZE + 100, block.subarray(0, 512), 1);
    partial.push(performance.now() - t);
    t = performance.now();
    await disk.read((i % 1024) * BLOCK_SIZE, BLOCK_SIZE);
    r.push(performance.now() - t);
  }
  const line = (name: string, xs: number[]) => console.log(`${name}-p50 ${pct(xs, 50).toFixed(2)}\n${name}-p99 ${pct(xs, 99).toFixed(2)}`);
  line("etcd-write-4k-ms", w);
  line("etcd-write-512b-partial-ms", partial);
  line("etcd-read-4k-ms", r);
} finally {
  await etcd.stop();
}
