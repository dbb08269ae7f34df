// What `npm run classroom` starts, as data (tested without starting anything): etcd's command
// line and the addresses each computer opens.
import type { NetworkInterfaceInfo } from "node:os";

export interface ClassroomPlan {
  /** This machine's LAN addresses (IPv4, not loopback), the ones other computers can reach. */
  lanIps: string[];
  appPort: number;
  etcdPort: number;
  peerPort: number;
  dataDir: string;
  /** History older than this is compacted away (etcd's periodic retention, e.g. "1m"). */
  retention: string;
  quotaBytes: number;
}

export function lanIps(ifaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  return Object.values(ifaces)
    .flatMap((list) => list ?? [])
    .filter((i) => i.family === "IPv4" && !i.internal)
    .map((i) => i.address);
}

/** Every origin the page may be opened from: each LAN address, and this machine's loopback names. */
export function appOrigins(p: ClassroomPlan): string[] {
  return [...p.lanIps, "127.0.0.1", "localhost"].map((h) => `http://${h}:${p.appPort}`);
}

export function etcdArgs(p: ClassroomPlan): string[] {
  const advertise = [...p.lanIps, "127.0.0.1"].map((h) => `http://${h}:${p.etcdPort}`).join(",");
  return [
    "--name=classroom",
    `--data-dir=${p.dataDir}`,
    // Every interface: the other computers reach etcd directly, as the teacher's browser does.
    `--listen-client-urls=http://0.0.0.0:${p.etcdPort}`,
    `--advertise-client-urls=${advertise}`,
    // One member: its peer port never leaves this machine.
    `--listen-peer-urls=http://127.0.0.1:${p.peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${p.peerPort}`,
    `--initial-cluster=classroom=http://127.0.0.1:${p.peerPort}`,
    // The browsers call etcd's JSON gateway from the app's origin: allow exactly those.
    `--cors=${appOrigins(p).join(",")}`,
    // A long session must not fill the disk: drop history, cap the database.
    "--auto-compaction-mode=periodic",
    `--auto-compaction-retention=${p.retention}`,
    `--quota-backend-bytes=${p.quotaBytes}`,
  ];
}

/** The address each computer opens: the app from this machine, storage on this machine's etcd (':' and '/' are fine in a query). */
export function classroomUrls(p: ClassroomPlan): string[] {
  const hosts = p.lanIps.length > 0 ? p.lanIps : ["127.0.0.1"];
  return hosts.map((h) => `http://${h}:${p.appPort}/?cluster=etcd&etcd=http://${h}:${p.etcdPort}`);
}

export const INSTALL_ETCD =
  "etcd is not installed. On Debian or Ubuntu: sudo apt-get install -y etcd-server (or, as root, bash scripts/ensure-etcd.sh), then run npm run classroom again.";
