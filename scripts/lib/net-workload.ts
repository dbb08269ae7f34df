// A network workload for a recording engine in Node: the project's client TCP/IP (src/net) wired
// straight to the guest's NIC (no switch: one host), fetching pages and a multi-MiB file from
// the guest's BusyBox httpd and setting a key over HTTP. Used by replay-check: received
// packets must replay at the same instruction, transmitted ones must be the same bytes.

import { createHash } from "node:crypto";
import { realNow } from "../../src/engine/clock.ts";
import { recordUntil } from "../../src/engine/drive.ts";
import type { LockstepEngine } from "../../src/engine/engine.ts";
import { ClientStack } from "../../src/net/client-stack.ts";
import { HttpGet, type HttpResponse } from "../../src/net/http-get.ts";

export const GUEST_IP = "10.0.2.15";
export const CLIENT_IP = "10.0.2.2";
export const CLIENT_MAC = "02:00:00:00:00:02";

/** What /cgi-bin/mkfile writes: the numbers 1, 2, 3... one per line, cut at `mib` MiB. */
export function expectedFile(mib: number): Uint8Array {
  const out = new Uint8Array(mib * 1048576);
  const enc = new TextEncoder();
  let o = 0;
  for (let n = 1; o < out.length; n++) {
    const line = enc.encode(`${n}\n`);
    out.set(line.subarray(0, Math.min(line.length, out.length - o)), o);
    o += line.length;
  }
  return out;
}

export const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

export interface NetDriver {
  stack: ClientStack;
  /** Starts a GET; run() makes progress. */
  get(path: string): HttpGet;
  /** Records frames (delivering packets both ways) until `stop()` holds. */
  run(stop: () => boolean, timeoutMs?: number): Promise<void>;
  /** get + run until the response is complete; throws if the connection failed. */
  fetch(path: string, timeoutMs?: number): Promise<HttpResponse>;
}

/**
 * Connects a client stack to `rec`: the client's frames enter the guest's NIC at the next frame
 * boundary (logged), the guest's transmitted packets reach the client after the frame that sent
 * them. `onFrame` runs after every frame (log batching).
 */
export function netDriver(rec: LockstepEngine, onFrame: () => void, seed = 0x5eed): NetDriver {
  let isn = seed;
  const stack = new ClientStack({ mac: CLIENT_MAC, ip: CLIENT_IP, isn: () => (isn = (Math.imul(isn, 1664525) + 1013904223) >>> 0) }, (f) => {
    rec.receivePacket(f);
  });
  const pump = () => {
    const now = realNow();
    for (const p of rec.takePackets()) stack.receive(p.bytes, now);
    stack.tick(now);
    onFrame();
  };
  const d: NetDriver = {
    stack,
    get: (path) => new HttpGet(stack, GUEST_IP, 80, path, realNow()),
    run: (stop, timeoutMs = 300_000) => recordUntil(rec, stop, { timeoutMs, onFrame: pump }),
    async fetch(path, timeoutMs) {
      const g = d.get(path);
      await d.run(() => g.response !== null || g.error !== null, timeoutMs);
      if (g.error) throw new Error(`GET ${path}: connection ${g.error} after ${g.bytesReceived} bytes`);
      return g.response!;
    },
  };
  return d;
}
