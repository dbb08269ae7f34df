// The TURN relay of `npm run classroom -- --turn` (Debian's coturn), as data: turnserver's
// command line and the ICE config the pages read from etcd (src/channel/ice-config.ts). Tested
// without starting anything; the e2e relay test starts it on loopback with the same arguments.
import { spawnSync } from "node:child_process";
import type { IceConfig } from "../../src/channel/ice-config.ts";

export interface TurnPlan {
  /** Where it listens and relays: the LAN addresses (the test: 127.0.0.1). */
  ips: string[];
  port: number;
  /** The relayed ports (UDP): one per allocation, two per logging channel. */
  minPort: number;
  maxPort: number;
  /** The static long-term credential every page uses (published in etcd, never in a URL). */
  user: string;
  secret: string;
  /** pid file and user database: turnserver's defaults are under /var, which needs root. */
  stateDir: string;
  /** Loopback peers are refused by default (a relay into the server's own host); the test needs them. */
  allowLoopback?: boolean;
}

export const INSTALL_COTURN =
  "turnserver (Debian's coturn) is not installed. On Debian or Ubuntu: sudo apt-get install -y coturn (or, as root, bash scripts/ensure-coturn.sh), then run again.";

export const turnInstalled = (): boolean => spawnSync("turnserver", ["--help"], { stdio: "ignore" }).error === undefined;

export function turnserverArgs(p: TurnPlan): string[] {
  return [
    "-n", // no config file: everything is here
    "--no-cli",
    "--no-tls",
    "--no-dtls",
    ...p.ips.flatMap((ip) => [`--listening-ip=${ip}`, `--relay-ip=${ip}`]),
    `--listening-port=${p.port}`,
    `--min-port=${p.minPort}`,
    `--max-port=${p.maxPort}`,
    "--lt-cred-mech",
    `--user=${p.user}:${p.secret}`,
    "--realm=lockstep",
    "--fingerprint",
    "--log-file=stdout",
    "--simple-log",
    `--pidfile=${p.stateDir}/turnserver.pid`,
    `--userdb=${p.stateDir}/turndb`,
    ...(p.allowLoopback ? ["--allow-loopback-peers"] : []),
  ];
}

/** What turnserver prints once it relays (its last start-up line before serving). */
export const TURN_READY = /Total General servers/;

/** The config the pages read from etcd: this relay over UDP, optionally the only path allowed. */
export function iceConfigFor(p: TurnPlan, relayOnly: boolean): IceConfig {
  return {
    iceServers: [{ urls: p.ips.map((ip) => `turn:${ip}:${p.port}?transport=udp`), username: p.user, credential: p.secret }],
    iceTransportPolicy: relayOnly ? "relay" : "all",
  };
}
