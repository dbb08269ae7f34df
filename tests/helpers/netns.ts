import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Two "computers" on one CI machine (issue 14), each Chromium in a network namespace of its own:
 *
 *   root (etcd, the app)  10.77.1.1 ── veth ── 10.77.1.2  ns A  10.77.3.1 ── veth ── 10.77.3.2  ns B  10.77.2.2 ── veth ── 10.77.2.1  root
 *
 * The root namespace does not forward (ip_forward 0, checked), so A and B reach each other only
 * over their own link, 10.77.3.0/24 (also each one's default route): the data channel's only path. `cut()` sets that link
 * down; both still reach etcd and the app through their links to the root namespace.
 */
export interface NetnsPair {
  /** Per computer: its address as seen from it (the root side of its link), its chromium wrapper. */
  a: { rootIp: string; chromium: string };
  b: { rootIp: string; chromium: string };
  cut(): void;
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });

/** Null with the reason when this machine cannot make namespaces (not root, no `ip`), so the test says why. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  if (spawnSync("ip", ["netns", "list"], { stdio: "ignore" }).status !== 0) return "iproute2's `ip netns` is missing";
  const forward = spawnSync("cat", ["/proc/sys/net/ipv4/ip_forward"], { encoding: "utf8" }).stdout.trim();
  if (forward !== "0") return "the root namespace forwards IPv4 (ip_forward=1): the two computers would have a second path";
  return null;
}

export function makeNetnsPair(chromiumPath: string, tag = String(process.pid % 10000)): NetnsPair {
  const [nsA, nsB] = [`ls-a-${tag}`, `ls-b-${tag}`];
  const dir = mkdtempSync(join(tmpdir(), "lockstep-netns-"));
  const made: string[] = [];
  const destroy = () => {
    for (const ns of made) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    // Root ends of the veths go with their peers; delete them anyway if a namespace was never made.
    for (const dev of [`lr-a${tag}`, `lr-b${tag}`]) spawnSync("ip", ["link", "del", dev], { stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const ns of [nsA, nsB]) {
      ip("netns", "add", ns);
      made.push(ns);
      ip("-n", ns, "link", "set", "lo", "up");
    }
    const link = (ns: string, inside: string, rootDev: string, rootIp: string, nsIp: string) => {
      ip("link", "add", rootDev, "type", "veth", "peer", "name", inside, "netns", ns);
      ip("addr", "add", `${rootIp}/24`, "dev", rootDev);
      ip("link", "set", rootDev, "up");
      ip("-n", ns, "addr", "add", `${nsIp}/24`, "dev", inside);
      ip("-n", ns, "link", "set", inside, "up");
    };
    link(nsA, "up0", `lr-a${tag}`, "10.77.1.1", "10.77.1.2");
    link(nsB, "up0", `lr-b${tag}`, "10.77.2.1", "10.77.2.2");
    // The link between the two computers: the data channel's only path.
    ip("-n", nsA, "link", "add", "peer0", "type", "veth", "peer", "name", "peer0", "netns", nsB);
    ip("-n", nsA, "addr", "add", "10.77.3.1/24", "dev", "peer0");
    ip("-n", nsB, "addr", "add", "10.77.3.2/24", "dev", "peer0");
    ip("-n", nsA, "link", "set", "peer0", "up");
    ip("-n", nsB, "link", "set", "peer0", "up");
    // Chromium gathers WebRTC host candidates on the interface of the default route only (no
    // media permission: all interfaces are not enumerated); without a default route it found no
    // path and the second browser kept waiting. The default route goes over the link between
    // the two computers, as a LAN's would.
    ip("-n", nsA, "route", "add", "default", "via", "10.77.3.2");
    ip("-n", nsB, "route", "add", "default", "via", "10.77.3.1");
  } catch (e) {
    destroy();
    throw e;
  }
  const wrapper = (ns: string) => {
    const p = join(dir, `chromium-${ns}`);
    writeFileSync(p, `#!/bin/sh\nexec ip netns exec ${ns} ${chromiumPath} "$@"\n`);
    chmodSync(p, 0o755);
    return p;
  };
  return {
    a: { rootIp: "10.77.1.1", chromium: wrapper(nsA) },
    b: { rootIp: "10.77.2.1", chromium: wrapper(nsB) },
    cut: () => void ip("-n", nsA, "link", "set", "peer0", "down"),
    destroy,
  };
}
