import type { ProtocolEvent } from "../../host/status.ts";
import type { Ctx, Scenario } from "./tour.ts";

const hasLine = (c: Ctx, l: string) => c.linesSince().includes(l);
const blocks = (c: Ctx, id: unknown) => c.host(id as string)?.status?.disk?.blocks;
const lastEvent = <K extends ProtocolEvent["kind"]>(c: Ctx, kind: K, since: number) =>
  c.cluster.events.filter((e): e is Extract<ProtocolEvent, { kind: K }> => e.kind === kind && e.at >= since).at(-1);

/**
 * Paper §4.1, non-shared disks: a pair whose hosts each keep their own copy of the disk. Writes
 * go to each copy (the backup's replayed VM writes its own), need not wait for the Output Rule,
 * and FT VMotion must ship the primary's copy to the new backup, which checks it by hash.
 */
export function nonSharedTour(): Scenario {
  return {
    id: "non-shared",
    title: "Non-shared disks",
    summary: "Each host keeps its own disk copy; after a failure FT VMotion ships the primary's copy with the snapshot.",
    steps: [
      {
        caption:
          "A new pair on non-shared disks (§4.1): each host keeps its own copy of the VM's disk, in a database of its own. The disk is now internal state of each VM, like its memory.",
        ref: "non-shared",
        run: (c) => {
          if (c.cluster.config.diskMode === "non-shared" && !c.cluster.hosts.some((h) => h.dead) && (c.cluster.lock?.epoch ?? 1) <= 1) return;
          const { readMode, diskCache } = c.cluster.initial;
          void c.cluster.restart({ diskMode: "non-shared", readMode, diskCache: diskCache !== false });
        },
        until: (c) => c.cluster.config.diskMode === "non-shared" && c.inLockstep(),
        timeoutMs: 240_000,
      },
      {
        caption:
          "The client stores a key. The primary writes its own copy at once (a disk write is no output now: it need not wait for the Output Rule); the backup's replayed VM issues the same writes to its copy.",
        ref: "non-shared",
        run: (c) => {
          c.vars.p = c.primary()!.id;
          c.vars.b = c.backup()!.id;
          c.typeLine("kv set disk own");
        },
        until: (c) => hasLine(c, "OK"),
        note: (c) => `written blocks: ${c.vars.p} ${blocks(c, c.vars.p) ?? "?"} · ${c.vars.b} ${blocks(c, c.vars.b) ?? "?"}`,
      },
      {
        caption: "The backup fails. The primary runs on alone; the failed host's copy is out of date from now on and is deleted.",
        ref: "failure",
        run: (c) => c.cluster.kill(c.vars.b as string),
        until: (c) => c.host(c.vars.p as string)?.status?.state === "alone",
      },
      {
        caption:
          "FT VMotion to a new host must sync a disk too: the clone carries the primary's copy (only the written blocks) next to the VM's snapshot; the new backup imports it before replaying and compares its hash with the primary's.",
        ref: "non-shared",
        run: (c) => {
          c.vars.eventMark = performance.now();
          c.vars.before = new Set(c.cluster.hosts.map((h) => h.id));
          c.cluster.restoreRedundancy();
        },
        until: (c) =>
          !!lastEvent(c, "clone-disk-imported", c.vars.eventMark as number) &&
          c.cluster.hosts.some((h) => !(c.vars.before as Set<string>).has(h.id) && h.status?.state === "replaying"),
        timeoutMs: 120_000,
        verdict: (c) => {
          const out = lastEvent(c, "clone-disk-exported", c.vars.eventMark as number);
          const into = lastEvent(c, "clone-disk-imported", c.vars.eventMark as number);
          const ok = !!out && !!into && out.hash === into.hash && out.blocks === into.blocks;
          const hex = (h: number | undefined) => (h ?? 0).toString(16).padStart(8, "0");
          return {
            kind: "disk-synced",
            ok,
            text: `${out?.hostId} shipped ${out?.blocks ?? "?"} blocks of its copy (hash ${hex(out?.hash)}); ${into?.hostId} imported ${into?.blocks ?? "?"} (hash ${hex(into?.hash)})${ok ? ": the same disk" : ": DIFFERENT"}, and replays as the new backup.`,
          };
        },
      },
    ],
  };
}
