/** The one-page demo's keyboard shortcuts, as the `?` list shows them (FtDemo.svelte handles the keys). */
export const SHORTCUTS: [string, string][] = [
  ["?", "show or hide this list"],
  ["Space", "pause or resume the tour"],
  ["N →", "next caption (skip reading time)"],
  ["←", "previous caption (the tour waits)"],
  ["1–9", "start tour 1–9"],
  ["K", "kill the primary"],
  ["B", "kill the backup"],
  ["C", "cut the logging channel"],
  ["S", "toggle storage reachable"],
  ["R", "restore redundancy (FT VMotion)"],
  ["P", "pause or resume the VM (the hosts keep running)"],
  ["F", "step the paused VM by one frame"],
  ["[ ]", "VM speed down / up (¼×, ½×, 1×, max)"],
  [", .", "timeline cursor one frame back / forward"],
  ["T", "toggle light/dark theme"],
  ["Esc", "close this list"],
];

/** What a key of the list above does (FtDemo.svelte carries it out). */
export type ShortcutAction =
  | "toggle-help"
  | "close-help"
  | "tour-toggle"
  | "tour-next"
  | "tour-prev"
  | "kill-primary"
  | "kill-backup"
  | "cut-channel"
  | "toggle-storage"
  | "restore"
  | "toggle-theme"
  | "toggle-vm-pause"
  | "step-vm"
  | "pace-down"
  | "pace-up"
  | "cursor-back"
  | "cursor-forward"
  | { tour: number };

const KEYS: Record<string, ShortcutAction> = {
  " ": "tour-toggle",
  n: "tour-next",
  arrowright: "tour-next",
  arrowleft: "tour-prev",
  k: "kill-primary",
  b: "kill-backup",
  c: "cut-channel",
  s: "toggle-storage",
  r: "restore",
  t: "toggle-theme",
  p: "toggle-vm-pause",
  f: "step-vm",
  "[": "pace-down",
  "]": "pace-up",
  ",": "cursor-back",
  ".": "cursor-forward",
};

/** A key press as the shortcuts see it; `inField`: typed into a form field or the client's terminal. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  inField: boolean;
}

/**
 * The action of a key press, or null (the key is left to the browser): none with a modifier or
 * while typing; while the list is open only `?` and Escape; digits start tour 1–9 (0-based here).
 */
export function shortcutAction(e: KeyPress, helpOpen: boolean): ShortcutAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey || e.inField) return null;
  if (e.key === "?") return "toggle-help";
  if (e.key === "Escape") return helpOpen ? "close-help" : null;
  if (helpOpen) return null;
  if (/^[1-9]$/.test(e.key)) return { tour: Number(e.key) - 1 };
  return KEYS[e.key.toLowerCase()] ?? null;
}
