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
