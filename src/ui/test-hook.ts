import type { Cluster } from "./lib/cluster.svelte.ts";
import type { TabCluster } from "./lib/tab-cluster.svelte.ts";
import type { ScenarioRunner } from "./teach/runner.svelte.ts";
import type { Timeline } from "./timeline/timeline.svelte.ts";
import type { EmbedApi } from "./teach/embed.ts";

/**
 * `window.lockstep`: what tests, benchmarks and embedding pages script. One typed shape, shared
 * by tests/ and scripts/ (they import these types), so a change here is a compile error there.
 */
export interface OnePageHook {
  mode: "ft";
  cluster: Cluster;
  runner: ScenarioRunner;
  timeline: Timeline;
  embed: EmbedApi;
  clientText(): string;
}

export interface TabsHook {
  mode: "tabs";
  cluster: TabCluster;
  timeline: Timeline;
  clientText(): string;
}

export type LockstepHook = OnePageHook | TabsHook;

declare global {
  interface Window {
    lockstep?: LockstepHook;
  }
}

export function installHook(hook: LockstepHook): void {
  window.lockstep = hook;
}
