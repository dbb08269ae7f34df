/**
 * What the page runs, chosen by URL parameters (docs/embedding.md): the mode (`mode=`), the
 * guest (`guest=`) and the FT options. Pure: parses a query string, touches nothing. An unknown
 * mode or guest is an error the page shows with the valid choices, never a blank page or a
 * silent fallback (a course page with a typo should say so).
 */

export interface Guest {
  id: string;
  title: string;
  /** Where its images live, relative to the app's base URL (manifest.json + boot files). */
  path: string;
  description: string;
}

/** The guest image sets this build ships (scripts/build-images.sh writes public/images/). */
export const GUESTS: readonly Guest[] = [
  {
    id: "busybox",
    title: "Minimal Linux + BusyBox",
    path: "images/",
    description: "Linux 6.1 (tinyconfig), static BusyBox initramfs with the kv store, 16 MiB ext2 disk at /data; 3.5 MiB download",
  },
];
export const DEFAULT_GUEST = "busybox";

export const MODES = {
  ft: "primary and backup as workers of this page, with the teaching UI (default)",
  tabs: "one host per browser tab (the kill-tab demo)",
  plain: "one plain VM, no fault tolerance",
} as const;
export type Mode = keyof typeof MODES;

export interface Launch {
  mode: Mode;
  guest: Guest;
  /** Absolute URL of the guest's image directory (`images=` overrides the guest's own path). */
  imagesUrl: string;
  diskMode: "shared" | "non-shared";
  readMode: "log" | "backup-reads";
  ft: boolean;
  /** `diskcache=off`: hosts run without the engine's disk cache (every guest read a real read). */
  diskCache: boolean;
  /**
   * `cluster=etcd&etcd=http://host:port`: the shared storage and the cluster service's messages
   * live in that etcd, so the hosts may run in browsers on different computers (issue 14); each
   * page is one member with one host, as in tab mode. null: everything in this browser.
   */
  etcd: { endpoint: string } | null;
  /** `boot=cold`: a new VM boots its kernel (seconds) instead of restoring the boot image. */
  start: "image" | "cold";
}

export const CLUSTERS = {
  browser: "everything in this browser: IndexedDB and BroadcastChannel (default)",
  etcd: "shared storage and messages in etcd, for hosts on different computers (with etcd=http://host:port; npm run classroom)",
} as const;

export type LaunchResult = { ok: true; launch: Launch } | { ok: false; param: "mode" | "guest" | "cluster" | "etcd"; value: string; message: string; choices: [string, string][] };

export function parseLaunch(search: string, base: string): LaunchResult {
  const p = new URLSearchParams(search);
  const mode = p.get("mode") ?? "ft";
  if (!Object.hasOwn(MODES, mode)) {
    return {
      ok: false,
      param: "mode",
      value: mode,
      message: `Unknown mode “${mode}”.`,
      choices: Object.entries(MODES),
    };
  }
  const cluster = p.get("cluster") ?? "browser";
  if (!Object.hasOwn(CLUSTERS, cluster)) {
    return { ok: false, param: "cluster", value: cluster, message: `Unknown cluster “${cluster}”.`, choices: Object.entries(CLUSTERS) };
  }
  let etcd: Launch["etcd"] = null;
  if (cluster === "etcd") {
    const raw = p.get("etcd") ?? "";
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return {
        ok: false,
        param: "etcd",
        value: raw,
        message: raw ? `“${raw}” is not an http(s) address of etcd.` : "cluster=etcd needs the address of etcd.",
        choices: [["http://<host>:<port>", "etcd's client address as npm run classroom prints it, e.g. http://192.168.1.20:23790"]],
      };
    }
    if (mode !== "ft" && mode !== "tabs") {
      return { ok: false, param: "mode", value: mode, message: `cluster=etcd runs one host per page (mode=tabs), not mode=${mode}.`, choices: [["tabs", MODES.tabs]] };
    }
    etcd = { endpoint: url.origin + url.pathname.replace(/\/+$/, "") };
  }
  const guestId = p.get("guest") ?? DEFAULT_GUEST;
  const guest = GUESTS.find((g) => g.id === guestId);
  if (!guest) {
    return {
      ok: false,
      param: "guest",
      value: guestId,
      message: `Unknown guest “${guestId}”.`,
      choices: GUESTS.map((g) => [g.id, `${g.title}: ${g.description}`]),
    };
  }
  return {
    ok: true,
    launch: {
      // Between computers each page is a member with one host: tab mode's shape.
      mode: etcd ? "tabs" : (mode as Mode),
      guest,
      imagesUrl: new URL(p.get("images") ?? guest.path, base).href,
      diskMode: p.get("disk") === "non-shared" ? "non-shared" : "shared",
      readMode: p.get("reads") === "backup" ? "backup-reads" : "log",
      ft: p.get("ft") !== "off",
      diskCache: p.get("diskcache") !== "off",
      etcd,
      start: p.get("boot") === "cold" ? "cold" : "image",
    },
  };
}
