// `npm run bench:channel`: a snapshot-sized message (13 MiB) over an RTCDataChannel between two
// pages in separate renderer processes, each end in a worker (as the hosts' logging channel),
// with and without the endpoint's flow window (acks from the receiver every quarter window).
// Prints per case: time, MB/s, the receiver's longest gap between chunks, and the kernel's count
// of UDP datagrams dropped for a full receive buffer meanwhile (Udp6RcvbufErrors).
// Why it exists: FT VMotion between tabs took 12–26 s over the channel; see CHANNEL_BULK_WINDOW.
import { readFileSync } from "node:fs";
import { cli } from "./lib/args.ts";
import { blankPage, withBrowser } from "./lib/browser.ts";

const { options } = cli({
  usage: "npm run bench:channel -- [options]",
  about: "13 MiB over a data channel between two renderer processes, by flow window.",
  options: {
    windows: { type: "string", default: "0,65536,131072,262144", help: "flow windows in bytes, comma-separated (0: none, the old behaviour)" },
    busy: { type: "int", min: 0, max: 4, default: 0, help: "busy workers per page (a VM's load)" },
  },
});
const TOTAL = 13 * 1024 * 1024;
const CHUNK = 64 * 1024;
const HIGH = 1024 * 1024;
const LOW = 256 * 1024;

const drops = () => {
  const m = /Udp6RcvbufErrors\s+(\d+)/.exec(readFileSync("/proc/net/snmp6", "utf8"));
  return m ? Number(m[1]) : NaN;
};

// Runs in each end's worker: the sender pumps chunks under bufferedAmount and the window; the
// receiver acks cumulative bytes every quarter window (as src/host/channel-endpoint.ts does).
const WORKER = `onmessage = (e) => {
  const { dc, win, role, total, chunk, high, low } = e.data; dc.binaryType = "arraybuffer";
  if (role === "send") {
    let sent = 0, acked = 0, t0 = 0;
    const pump = () => { while (sent < total && dc.bufferedAmount < high && (!win || sent - acked < win)) { const n = Math.min(chunk, total - sent); dc.send(new Uint8Array(n)); sent += n; } };
    dc.bufferedAmountLowThreshold = low; dc.onbufferedamountlow = pump;
    dc.onmessage = (m) => { acked = new DataView(m.data).getFloat64(0, true); if (acked >= total) postMessage({ ms: performance.now() - t0 }); else pump(); };
    const go = () => { t0 = performance.now(); pump(); };
    if (dc.readyState === "open") go(); else dc.onopen = go;
  } else {
    let got = 0, ackSent = 0, last = 0, maxGap = 0;
    dc.onmessage = (m) => {
      const now = performance.now(); if (last) maxGap = Math.max(maxGap, now - last); last = now; got += m.data.byteLength;
      if (got >= total || !win || got - ackSent >= win / 4) { ackSent = got; const a = new ArrayBuffer(8); new DataView(a).setFloat64(0, got, true); dc.send(a); }
      if (got >= total) postMessage({ maxGap });
    };
  }
};`;
const BUSY = "onmessage = () => { for (;;) {} }";

const setup = (role: "send" | "recv", win: number, busy: number) => `(async () => {
  const mk = (src) => new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
  window.workers = [];
  for (let i = 0; i < ${busy}; i++) { const b = mk(${JSON.stringify(BUSY)}); b.postMessage(0); window.workers.push(b); }
  const w = mk(${JSON.stringify(WORKER)}); window.workers.push(w);
  window.result = new Promise((res) => (w.onmessage = (m) => res(m.data)));
  const args = { win: ${win}, role: "${role}", total: ${TOTAL}, chunk: ${CHUNK}, high: ${HIGH}, low: ${LOW} };
  const pc = new RTCPeerConnection(); window.pc = pc; window.cands = [];
  pc.onicecandidate = (e) => e.candidate && window.cands.push(e.candidate.toJSON());
  if ("${role}" === "recv") { pc.ondatachannel = (e) => w.postMessage({ dc: e.channel, ...args }, [e.channel]); return null; }
  const dc = pc.createDataChannel("bench", { ordered: true });
  w.postMessage({ dc, ...args }, [dc]);
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.toJSON();
})()`;

// A fresh browser per case: nothing of an earlier connection (its SCTP state, its sockets) carries over.
for (const win of options.windows.split(",").map(Number)) {
  await withBrowser(blankPage, async ({ url, browser }) => {
    // Two contexts: two renderer processes, as two tabs (or two browsers) are.
    const pages = await Promise.all([0, 1].map(async () => (await browser.newContext()).newPage()));
    const [pa, pb] = pages as [(typeof pages)[0], (typeof pages)[0]];
    for (const p of pages) await p.goto(url);
    const d0 = drops();
    const offer = await pa.evaluate(setup("send", win, options.busy));
    await pb.evaluate(setup("recv", win, options.busy));
    const answer = await pb.evaluate(`(async () => { await pc.setRemoteDescription(${JSON.stringify(offer)}); await pc.setLocalDescription(await pc.createAnswer()); return pc.localDescription.toJSON(); })()`);
    await pa.evaluate(`pc.setRemoteDescription(${JSON.stringify(answer)})`);
    // Candidates trickle: hand over each side's new ones until the connection is up.
    const given = [0, 0];
    while ((await pa.evaluate("pc.connectionState")) !== "connected") {
      for (const [from, to, k] of [[pa, pb, 0], [pb, pa, 1]] as const) {
        const cands = ((await from.evaluate("window.cands")) as unknown[]).slice(given[k]);
        given[k] += cands.length;
        await to.evaluate(`Promise.all(${JSON.stringify(cands)}.map((c) => pc.addIceCandidate(c)))`);
      }
      await pa.waitForTimeout(50);
    }
    const [sent, got] = (await Promise.all([pa.evaluate("window.result"), pb.evaluate("window.result")])) as [{ ms: number }, { maxGap: number }];
    const label = win === 0 ? "none" : `${win / 1024} KiB`;
    console.log(`window ${label}: ${Math.round(sent.ms)} ms, ${(TOTAL / 1e6 / (sent.ms / 1000)).toFixed(1)} MB/s, longest gap ${Math.round(got.maxGap)} ms, UDP drops ${drops() - d0}`);
  });
}
