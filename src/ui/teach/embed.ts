import type { Cluster } from "../lib/cluster.svelte.ts";
import type { ScenarioRunner } from "./runner.svelte.ts";

/**
 * The postMessage API for course pages that embed Lockstep in an iframe (docs/embedding.md).
 * Messages are `{ type: "lockstep:…", … }`. Only messages from this page's own origin or from an
 * origin listed in `?parent=` are obeyed; anything else is counted, noted in the event feed and
 * ignored. Events go out only to those origins, never to "*".
 */
export interface EmbedHooks {
  cluster: Cluster;
  runner: ScenarioRunner;
  startScenario(id: string): boolean;
  /** New pair: a fresh primary and backup (a running tour stops), as the page's button. */
  newPair(): void;
}

export type EmbedIn =
  | { type: "lockstep:ping" }
  | { type: "lockstep:start-scenario"; id: string }
  | { type: "lockstep:pause" }
  | { type: "lockstep:resume" }
  | { type: "lockstep:kill-primary" }
  | { type: "lockstep:kill-backup" }
  | { type: "lockstep:cut-channel" }
  | { type: "lockstep:restore-redundancy" }
  | { type: "lockstep:new-pair" }
  | { type: "lockstep:type"; text: string };

export class EmbedApi {
  accepted = 0;
  rejected = 0;
  readonly allowed: string[];
  private readonly onMessage = (e: MessageEvent) => this.receive(e);

  constructor(
    private readonly hooks: EmbedHooks,
    parentOrigins: string[],
  ) {
    this.allowed = [location.origin, ...parentOrigins.map(normalise).filter((o): o is string => o !== null)];
    window.addEventListener("message", this.onMessage);
    hooks.cluster.onEvent((event) => this.post({ type: "lockstep:event", event }));
    hooks.runner.onChange((r) =>
      this.post({
        type: "lockstep:scenario",
        id: r.scenario?.id ?? null,
        step: r.step,
        steps: r.scenario?.steps.length ?? 0,
        status: r.status,
        caption: r.caption,
        verdict: r.verdict ? { ...r.verdict } : null,
      }),
    );
    this.post({ type: "lockstep:ready" });
  }

  dispose(): void {
    window.removeEventListener("message", this.onMessage);
  }

  isAllowed(origin: string): boolean {
    return this.allowed.includes(origin);
  }

  receive(e: MessageEvent): void {
    const d = e.data as EmbedIn | null;
    if (!d || typeof d !== "object" || typeof d.type !== "string" || !d.type.startsWith("lockstep:")) return;
    if (!this.isAllowed(e.origin)) {
      this.rejected++;
      this.hooks.cluster.noteEvent("page", "embed", `embed: ignored ${d.type} from ${e.origin || "an opaque origin"} (not an allowed parent)`);
      return;
    }
    this.accepted++;
    const { cluster, runner } = this.hooks;
    const live = (role: string) => cluster.hosts.find((h) => !h.dead && h.status?.role === role && h.status.state !== "halted");
    switch (d.type) {
      case "lockstep:ping":
        (e.source as WindowProxy | null)?.postMessage({ type: "lockstep:pong" }, e.origin);
        break;
      case "lockstep:start-scenario":
        this.hooks.startScenario(String(d.id));
        break;
      case "lockstep:pause":
        runner.pause();
        break;
      case "lockstep:resume":
        runner.resume();
        break;
      case "lockstep:kill-primary": {
        const p = live("primary");
        if (p) cluster.kill(p.id);
        break;
      }
      case "lockstep:kill-backup": {
        const b = live("backup");
        if (b) cluster.kill(b.id);
        break;
      }
      case "lockstep:cut-channel":
        cluster.cutChannel();
        break;
      case "lockstep:restore-redundancy":
        cluster.restoreRedundancy();
        break;
      case "lockstep:new-pair":
        this.hooks.newPair();
        break;
      case "lockstep:type":
        if (typeof d.text === "string") cluster.type(d.text.slice(0, 1024));
        break;
    }
  }

  private post(msg: unknown): void {
    if (window.parent === window) return;
    for (const origin of this.allowed) {
      try {
        window.parent.postMessage(msg, origin);
      } catch {
        /* an origin that is not the parent's: postMessage drops it */
      }
    }
  }
}

function normalise(o: string): string | null {
  try {
    const u = new URL(o);
    return u.origin === "null" ? null : u.origin;
  } catch {
    return null;
  }
}
