import type { Cluster } from "../lib/cluster.svelte.ts";
import { PACES, type Timeline } from "../timeline/timeline.svelte.ts";
import type { ScenarioRunner } from "./runner.svelte.ts";
import type { ShortcutAction } from "./shortcuts.ts";

export type ShortcutActions = Record<Exclude<ShortcutAction, { tour: number }>, () => void>;

export interface OnePage {
  cluster: Cluster;
  runner: ScenarioRunner;
  timeline: Timeline;
  /** The `?` list: flip it, or close it. */
  help: (open: "toggle" | false) => void;
  toggleTheme: () => void;
}

/**
 * What the one page's keys do (the list in shortcuts.ts): the failure controls act on live roles
 * (a halted former primary or backup is neither), as the buttons do.
 */
export function onePageActions({ cluster, runner, timeline, help, toggleTheme }: OnePage): ShortcutActions {
  const shiftPace = (dir: number) => {
    const i = PACES.indexOf(cluster.livePrimary()?.status?.vm?.pace ?? 1);
    cluster.setVmPace(PACES[Math.max(0, Math.min(PACES.length - 1, i + dir))]!);
  };
  return {
    "toggle-help": () => help("toggle"),
    "close-help": () => help(false),
    "tour-toggle": () => runner.toggle(),
    "tour-next": () => runner.next(),
    "tour-prev": () => runner.prev(),
    "kill-primary": () => {
      const p = cluster.livePrimary();
      if (p) cluster.kill(p.id);
    },
    "kill-backup": () => {
      const b = cluster.liveBackup();
      if (b) cluster.kill(b.id);
    },
    "cut-channel": () => {
      if (cluster.livePrimary() && cluster.liveBackup()) cluster.cutChannel();
    },
    "toggle-storage": () => cluster.setStorageAvailable(!cluster.storageAvailable),
    restore: () => cluster.restoreRedundancy(),
    "toggle-theme": toggleTheme,
    "toggle-vm-pause": () => cluster.setVmPaused(!cluster.livePrimary()?.status?.vm?.paused),
    "step-vm": () => cluster.stepVm(),
    "pace-down": () => shiftPace(-1),
    "pace-up": () => shiftPace(1),
    "cursor-back": () => void timeline.seekTo(timeline.cursor - 1),
    "cursor-forward": () => void timeline.seekTo(timeline.cursor + 1),
  };
}
