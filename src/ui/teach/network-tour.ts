import type { DownloadView } from "../../cluster/client-network.ts";
import type { TcpStats } from "../../net/tcp-types.ts";
import { pairChanged } from "./fresh-pair.ts";
import type { Ctx, Scenario, Step } from "./tour.ts";

/**
 * "Network: why TCP makes failover invisible" (paper §2.2: "the network infrastructure
 * (including the common use of TCP) is designed to deal with lost packets and identical
 * (duplicate) packets"). The client downloads a file from the guest's httpd over one TCP
 * connection; the primary fails mid-download at the worst moment (the logging channel cut just
 * before, so its last log never reaches the backup); the backup goes live with the VM's MAC and
 * IP, the switch learns the MAC's new port, and the same connection completes: what the dead
 * primary held is sent for the first time, what the client had is discarded as a duplicate.
 * Then the counterfactual on a pair with the Output Rule off: the client has acknowledged data
 * the new primary never sent, and the connection is stuck (measured, not assumed).
 */

const MIB = 1;
/**
 * Rule off: the primary is killed once the client has received this much past the cut. The new
 * primary's TCP knows the client's ACKs only up to the cut (the rest were logged by the dead
 * primary alone), so it may send at most one client window (64 KiB, no window scaling) past
 * what the client had then: with more than that received, no byte it can send is new.
 */
const AHEAD_OFF = 96 * 1024;
const WINDOW = 65535;
/** Rule off: how long the connection must make no progress, with resends, to be called stuck. */
const STUCK_MS = 4000;

/**
 * The guest kernel's own count of TCP segments it sent again (RetransSegs, the 13th field of
 * /proc/net/snmp's Tcp: values): the retransmissions as the new primary's TCP made them. The
 * client cannot count those of packets it never received (they look new to it).
 */
const RETRANS_CMD = "set -- $(grep Tcp: /proc/net/snmp | tail -1); echo RETRANS ${13}";
const retransLine = (c: Ctx): number | null => {
  const m = c.linesSince().map((l) => /^RETRANS (\d+)$/.exec(l)).find((x) => x);
  return m ? Number(m[1]) : null;
};

type Phase = "on" | "off";
interface Run {
  mkfile?: number;
  file?: { path: string; size: number; sha: string };
  dl?: number;
  p?: string;
  b?: string;
  cut?: { bytes: number; status: unknown; seen?: boolean };
  killed?: { bytes: number; held: number };
  retrans?: { before: number; after?: number };
  live?: { at: number; tcp: TcpStats };
  outcome?: string;
}

const segments = (n: number) => `${n} segment${n === 1 ? "" : "s"}`;
const kib = (n: number) => `${(n / 1024).toLocaleString("en-US", { maximumFractionDigits: 0 })} KiB`;
const run = (c: Ctx, ph: Phase): Run => ((c.vars[`net:${ph}`] as Run | undefined) ??= {});
const net = (c: Ctx) => c.cluster.network;
const dl = (c: Ctx, id: number | undefined): DownloadView | undefined => (id === undefined ? undefined : net(c).view().downloads[id - 1]);
const failedIf = (d: DownloadView | undefined, what: string) => {
  if (d?.state === "failed") throw new Error(`${what} failed: ${d.error}`);
};
/** TCP counters of the download since the new primary went live. */
const sinceLive = (c: Ctx, r: Run) => {
  const t = dl(c, r.dl)!.tcp;
  const l = r.live!.tcp;
  return { resent: t.retransmitsIn - l.retransmitsIn, dup: t.duplicates - l.duplicates, bytes: t.bytesIn - l.bytesIn };
};
const ruleIs = (c: Ctx, ph: Phase) => (c.cluster.config.noOutputRule === true) === (ph === "off");

function bootStep(ph: Phase): Step {
  return {
    caption:
      ph === "on"
        ? "Two hosts boot the same Linux VM, the Output Rule ON. The guest serves HTTP on 10.0.2.15; the client (10.0.2.2) has a TCP/IP of its own, behind a switch with a port per host."
        : "Now the counterfactual: the same download on a new pair with the Output Rule OFF, so the primary sends every packet at once, before the backup has its log.",
    ref: ph === "on" ? "replay" : "output-rule",
    run: (c) => {
      c.vars[`net:${ph}`] = {};
      if (ph === "off" || pairChanged(c) || c.cluster.config.noOutputRule) {
        const i = c.cluster.initial;
        void c.cluster.restart({ readMode: i.readMode, diskMode: i.diskMode, diskCache: i.diskCache !== false, noOutputRule: ph === "off" });
      }
    },
    until: (c) => ruleIs(c, ph) && c.inLockstep(),
    timeoutMs: 240_000,
  };
}

function fileStep(ph: Phase): Step {
  return {
    caption: `The client asks the guest's web server for a ${MIB} MiB file: the guest writes it on its disk and answers with its size and sha256.`,
    ref: "disk",
    run: (c) => (run(c, ph).mkfile = net(c).download(`/cgi-bin/mkfile?mib=${MIB}`)),
    until: (c) => {
      const r = run(c, ph);
      const d = dl(c, r.mkfile);
      failedIf(d, "making the file");
      if (d?.state !== "done" || !d.text) return false;
      const [path, size, sha] = d.text.trim().split(" ");
      r.file = { path: path!, size: Number(size), sha: sha! };
      return true;
    },
    note: (c) => (run(c, ph).file ? `${run(c, ph).file!.path}: ${run(c, ph).file!.size.toLocaleString()} bytes, sha256 ${run(c, ph).file!.sha.slice(0, 16)}…` : ""),
    timeoutMs: 120_000,
  };
}

function downloadStep(ph: Phase): Step {
  return {
    caption:
      "The client downloads it over one TCP connection. Each packet the guest transmits is an output (packet out): the primary holds it until the backup has acknowledged the log up to it. The client's ACKs are packets in: inputs, logged with their bytes.",
    ref: "output-rule",
    run: (c) => {
      const r = run(c, ph);
      if (ph === "on") c.typeLine(RETRANS_CMD);
      r.dl = net(c).download(r.file!.path);
      r.p = c.primary()!.id;
      r.b = c.backup()!.id;
    },
    until: (c) => {
      const d = dl(c, run(c, ph).dl);
      failedIf(d, "the download");
      if (d?.state === "done") throw new Error("the download finished before the failure: the machine is faster than this tour expects");
      const r = run(c, ph);
      if (ph === "on" && !r.retrans) {
        const n = retransLine(c);
        if (n === null) return false;
        r.retrans = { before: n };
      }
      return (d?.received ?? 0) >= 256 * 1024;
    },
    note: (c) => `received ${kib(dl(c, run(c, ph).dl)?.received ?? 0)} of ${kib(run(c, ph).file?.size ?? 0)}`,
    // Read in a frozen world: on an idle machine the rest of the file arrived while this caption
    // was up (measured: all 1 MiB), and the failure step then had no download to break. (Pausing
    // the client's reads instead left the new primary's TCP facing a zero window whose update
    // died with the old primary: stuck.)
    critical: true,
    timeoutMs: 60_000,
  };
}

/** The primary fails mid-download; the channel is cut first, so its last log never reaches the backup. */
function failStep(ph: Phase): Step {
  return {
    caption:
      ph === "on"
        ? "The primary fails mid-download, at the worst moment: the logging channel is cut just before, so its last log never reaches the backup. The packets it transmitted meanwhile wait for acks that cannot come: they die with it, held."
        : "The primary fails the same way. Without the Output Rule it sent its packets at once: the client received and acknowledged data whose log the backup never got.",
    ref: "output-rule",
    run: (c) => {
      const r = run(c, ph);
      r.cut = { bytes: dl(c, r.dl)!.tcp.bytesIn, status: c.host(r.p!)?.status };
      c.cluster.cutChannel();
    },
    // Killed once it has sent (rule off) or held (rule on) packets after the cut, well before the
    // failure detectors (1 s) fire on the cut: the caption is then read in a frozen world.
    until: (c) => {
      const r = run(c, ph);
      const p = c.host(r.p!);
      if (p?.status?.state === "alone") throw new Error("the primary's failure detector fired on the cut before the kill (a very slow machine)");
      const t = dl(c, r.dl)!.tcp;
      // Rule off: counted from the primary's first status that shows the cut. Packets it sent
      // before the cut may still wait for this page's thread (a loaded machine), though the
      // backup's log covers them; its status comes after them, so the count there includes them.
      if (ph === "off" && !r.cut!.seen) {
        if (p?.status?.channel !== "cut") return false;
        r.cut = { ...r.cut!, bytes: t.bytesIn, seen: true };
      }
      const ready = ph === "off" ? t.bytesIn >= r.cut!.bytes + AHEAD_OFF : p?.status !== r.cut!.status && (p?.status?.heldOutputs ?? 0) > 0;
      if (!ready) return false;
      r.killed = { bytes: t.bytesIn, held: p?.status?.heldOutputs ?? 0 };
      c.cluster.kill(r.p!);
      return true;
    },
    note: (c) => {
      const r = run(c, ph);
      if (ph === "on") return r.killed ? `${r.p} killed holding ${r.killed.held} outputs the backup's log does not cover` : "";
      const got = (r.killed?.bytes ?? r.cut!.bytes) - r.cut!.bytes;
      return `the client received ${kib(got)} after the cut${r.killed ? `; ${r.p} killed` : ""}`;
    },
    critical: true,
    timeoutMs: 10_000,
  };
}

function liveStep(ph: Phase): Step {
  return {
    caption:
      "The backup notices the silence, wins the test-and-set and goes live. It is the same VM: same MAC, same IP. Its first packet teaches the switch the MAC's new port (Network: switch).",
    ref: "go-live",
    until: (c) => {
      const r = run(c, ph);
      const s = c.host(r.b!)?.status;
      if (s?.role !== "primary" || s.state !== "alone") return false;
      if (!net(c).view().learned.some((l) => l.port === r.b)) return false;
      r.live ??= { at: performance.now(), tcp: { ...dl(c, r.dl)!.tcp } };
      return true;
    },
    note: (c) => {
      const r = run(c, ph);
      const l = net(c).view().learned.findLast((x) => x.port === r.b);
      return l ? `switch: ${l.mac} moved to ${l.port}${l.previous ? ` from ${l.previous}` : ""}` : `waiting for ${r.b}…`;
    },
    timeoutMs: 30_000,
  };
}

const recoverStep: Step = {
  caption:
    "To the client's TCP the failover is packet loss and duplication, nothing more. The new primary's TCP sends again from the oldest byte it has no ACK for: what the dead primary held goes out for the first time, what the client already had arrives again and is discarded as a duplicate.",
  ref: "network",
  until: (c) => {
    const r = run(c, "on");
    const d = dl(c, r.dl);
    failedIf(d, "the download after the failover");
    return d?.state === "done";
  },
  note: (c) => {
    const r = run(c, "on");
    const s = sinceLive(c, r);
    return `since the failover: ${segments(s.resent)} sent again, ${s.dup} duplicates discarded, ${kib(s.bytes)} new · received ${kib(dl(c, r.dl)?.received ?? 0)}`;
  },
  timeoutMs: 120_000,
};

const guestRetransStep: Step = {
  caption:
    "Ask the guest how many segments its TCP sent again (RetransSegs in /proc/net/snmp). The new primary continued the old one's TCP exactly where the log left it, so its counter counts the failover's retransmissions too.",
  ref: "network",
  run: (c) => c.typeLine(RETRANS_CMD),
  until: (c) => {
    const r = run(c, "on");
    const n = retransLine(c);
    if (n === null) return false;
    r.retrans!.after = n;
    return true;
  },
  note: (c) => {
    const r = run(c, "on").retrans;
    return r?.after !== undefined ? `the guest's TCP: ${segments(r.before)} sent again before the download's failover, ${r.after} now (+${r.after - r.before})` : "";
  },
  timeoutMs: 30_000,
};

const consoleStep: Step = {
  caption:
    "Lockstep's console has no TCP, so it needs an exactly-once protocol of its own: the client numbers its inputs and resends those not acknowledged, and every output byte has an offset, so a resent byte is dropped by its offset. TCP's sequence numbers and ACKs do the same for the network.",
  ref: "network",
  note: (c) => {
    const k = c.cluster.client;
    return `console: inputs sent ${k.sentInputs}, acknowledged ${k.inputAcked}; output bytes held ${k.length.toLocaleString()} (by offset); conflicts ${k.conflicts}`;
  },
};

const stuckStep: Step = {
  caption:
    "The client acknowledged bytes the new primary never sent. It knows the client's ACKs only up to the cut, may send at most one window (64 KiB) past them, and ignores ACKs for data it never sent. Every segment it sends is a duplicate for the client, every ACK from the client is discarded: no progress.",
  ref: "output-rule",
  until: (c) => {
    const r = run(c, "off");
    const d = dl(c, r.dl)!;
    if (d.state !== "running") return true;
    const s = sinceLive(c, r);
    return s.bytes === 0 ? s.dup >= 2 && performance.now() - r.live!.at >= STUCK_MS : true;
  },
  note: (c) => {
    const r = run(c, "off");
    const s = sinceLive(c, r);
    return `since the failover (${((performance.now() - r.live!.at) / 1000).toFixed(1)} s): ${segments(s.resent)} sent again, ${s.dup} duplicates discarded, ${kib(s.bytes)} new`;
  },
  timeoutMs: 60_000,
};

function verdictStep(): Step {
  return {
    caption: "With the Output Rule, the failover cost the client a pause and some resent packets. Without it, the client was told of data that no longer exists.",
    ref: "output-rule",
    run: (c) => {
      const r = run(c, "off");
      const d = dl(c, r.dl)!;
      const s = sinceLive(c, r);
      r.outcome =
        d.state === "failed"
          ? `the connection broke (${d.error})`
          : d.state === "done"
            ? d.sha256 === r.file!.sha
              ? "the download completed with the right data"
              : `the data differs (sha256 ${d.sha256?.slice(0, 12)}…, the file's ${r.file!.sha.slice(0, 12)}…)`
            : `the connection is stuck: in ${((performance.now() - r.live!.at) / 1000).toFixed(1)} s the new primary sent ${segments(s.resent)}, all ${s.dup} duplicates, 0 new bytes`;
      // A stuck connection would stay so for minutes (the guest gives up after ~15 retries): the client gives up now.
      if (d.state === "running") net(c).abort(r.dl!);
    },
    verdict: (c) => {
      const on = run(c, "on");
      const off = run(c, "off");
      const a = dl(c, on.dl)!;
      const b = dl(c, off.dl)!;
      const sa = sinceLive(c, on);
      const resentByGuest = on.retrans!.after! - on.retrans!.before;
      const onOk = a.state === "done" && a.sha256 === on.file!.sha && a.received === on.file!.size && a.connections === 1 && resentByGuest > 0;
      const offBroken = b.sha256 !== off.file!.sha;
      const beyond = off.killed!.bytes - (off.cut!.bytes + WINDOW);
      return {
        kind: onOk && offBroken ? "tcp-invisible" : "unexpected",
        ok: onOk && offBroken,
        text:
          `Rule ON: one connection, ${a.received.toLocaleString()} bytes, sha256 ${a.sha256 === on.file!.sha ? "right" : "WRONG"}; the guest's TCP sent ${segments(resentByGuest)} again (RetransSegs); the client saw ${sa.resent} resends and discarded ${sa.dup} duplicates. ` +
          `Rule OFF: the client acknowledged ${kib(off.killed!.bytes - off.cut!.bytes)} past the backup's log, ${kib(Math.max(0, beyond))} beyond anything the new primary could send; ${off.outcome}.`,
      };
    },
  };
}

export function networkTour(): Scenario {
  return {
    id: "network",
    title: "Network: why TCP makes failover invisible",
    summary: "A download survives the primary's failure on one TCP connection; without the Output Rule the client acknowledged data that no longer exists.",
    steps: [
      bootStep("on"),
      fileStep("on"),
      downloadStep("on"),
      failStep("on"),
      liveStep("on"),
      recoverStep,
      guestRetransStep,
      consoleStep,
      bootStep("off"),
      fileStep("off"),
      downloadStep("off"),
      failStep("off"),
      liveStep("off"),
      stuckStep,
      verdictStep(),
    ],
  };
}
