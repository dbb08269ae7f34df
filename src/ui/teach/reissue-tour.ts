import type { ProtocolEvent } from "../../host/status.ts";
import type { Ctx, Scenario, Step } from "./tour.ts";

const KEY = "kv set reissue yes";
const pending = (c: Ctx, id: unknown) => c.host(id as string)?.status?.pendingIo ?? 0;
const okLines = (c: Ctx) => c.linesSince().filter((l) => l === "OK").length;
const reissues = (c: Ctx) =>
  c.cluster.events.filter((e): e is Extract<ProtocolEvent, { kind: "reissue" }> => e.kind === "reissue" && e.at >= (c.vars.eventMark as number) && e.hostId === c.vars.b);

/**
 * Paper §3.4, disk I/O at go-live: "there is no way for the newly-promoted primary VM to be sure
 * if the disk IOs were issued to the disk or completed successfully", so it re-issues every I/O
 * its guest still waits for. Storage made unreachable keeps the guest's I/O (a read of the key
 * store, then its write) pending on both sides (the backup's replayed guest issued it too) for as
 * long as the lesson needs; the primary fails meanwhile, and the backup, going live once the
 * storage is back, issues it again.
 */
export function reissueTour(boot: Step): Scenario {
  return {
    id: "reissue",
    title: "Re-issue of pending disk I/O",
    summary: "The primary fails while disk I/O is pending: the backup goes live and issues it again.",
    steps: [
      boot,
      {
        caption: "The shared storage becomes unreachable (a broken path to the disk array). The VMs run on; disk I/O now waits.",
        ref: "disk",
        run: (c) => {
          c.vars.p = c.primary()!.id;
          c.vars.b = c.backup()!.id;
          c.cluster.setStorageAvailable(false);
        },
        until: (c) => !c.cluster.storageAvailable,
      },
      {
        caption: `The client types \`${KEY}\`. The guest reads and writes the disk and waits for its I/O to complete before it prints OK. Nothing can complete now: the I/O stays pending. The backup's replayed guest issues the same I/O at the same instruction, and the backup notes it as pending too (it never touches the shared disk itself).`,
        ref: "disk",
        run: (c) => c.typeLine(KEY),
        // Pending on both sides: the backup has replayed the frame that issued it.
        until: (c) => {
          if (okLines(c) > 0) throw new Error("the guest's I/O completed with the storage unreachable");
          return pending(c, c.vars.p) > 0 && pending(c, c.vars.b) > 0;
        },
        note: (c) => `pending disk I/O: ${c.vars.p} ${pending(c, c.vars.p)} · ${c.vars.b} ${pending(c, c.vars.b)} · OK printed: ${okLines(c) > 0 ? "yes" : "no"}`,
        timeoutMs: 60_000,
      },
      {
        caption: "Now the primary fails, its I/O still pending: did it reach the disk or not? Nobody can tell. The backup notices the silence, but cannot go live yet: the test-and-set needs the storage too.",
        ref: "failure",
        run: (c) => c.cluster.kill(c.vars.p as string),
        until: (c) => c.host(c.vars.b as string)?.status?.state === "going-live",
        timeoutMs: 60_000,
      },
      {
        caption:
          "The storage is back. The backup wins the test-and-set (epoch 2) and goes live. It cannot know whether the old primary's I/O completed, so it re-issues every disk I/O its guest is still waiting for (§3.4), now at epoch 2. Reading again, or writing the same data twice, is harmless.",
        ref: "disk",
        run: (c) => {
          c.vars.eventMark = performance.now();
          c.cluster.setStorageAvailable(true);
        },
        until: (c) => reissues(c).length > 0,
        note: (c) => reissues(c).map((e) => e.text).join(" · "),
        timeoutMs: 60_000,
      },
      {
        caption: "The re-issued I/O completes, the guest sees its completion, finishes the command and prints OK: the client gets it exactly once, from the new primary.",
        ref: "go-live",
        until: (c) => okLines(c) > 0,
        holdMs: 3000,
        timeoutMs: 60_000,
        verdict: (c) => {
          const r = reissues(c);
          const epoch = c.cluster.lock?.epoch ?? 0;
          const ok = r.length > 0 && okLines(c) === 1 && epoch === 2 && c.cluster.clientConflicts === 0;
          return {
            kind: "reissued",
            ok,
            text: `${c.vars.b} went live at epoch ${epoch} and re-issued ${r.length} pending disk I/O (${r.map((e) => `${e.op} #${e.ioId}, issued at frame ${e.issuedAt}`).join("; ")}); the client got OK ${okLines(c)}×; conflicts ${c.cluster.clientConflicts}.`,
          };
        },
      },
    ],
  };
}
