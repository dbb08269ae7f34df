import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real etcd (Debian's etcd-server) on loopback for a test file: free ports, a temporary data
 * directory, CORS for the app's origins, history compacted after a minute. Started in
 * `beforeAll`, stopped in `afterAll`. Missing etcd is a failure with the fix, never a skip.
 */
export interface EtcdServer {
  endpoint: string;
  port: number;
  dataDir: string;
  /** etcd stops answering (SIGSTOP: connections stay open, nothing replies), as a hung or cut-off server. */
  pause(): void;
  /** SIGCONT: it answers again, with everything it had. */
  resume(): void;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export function etcdInstalled(): boolean {
  return spawnSync("etcd", ["--version"], { stdio: "ignore" }).status === 0;
}

/** `listenAll`: clients on every interface (browsers in other network namespaces), not loopback only. */
export async function startEtcd(opts: { cors?: string; extraArgs?: string[]; listenAll?: boolean } = {}): Promise<EtcdServer> {
  if (!etcdInstalled()) throw new Error("etcd is missing: run 'bash scripts/ensure-etcd.sh' (as root: apt-get install -y etcd-server)");
  const [port, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), "lockstep-etcd-"));
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(
    "etcd",
    [
      `--name=test`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${opts.listenAll ? `http://0.0.0.0:${port}` : endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
      `--cors=${opts.cors ?? "*"}`,
      "--auto-compaction-mode=periodic",
      "--auto-compaction-retention=1m",
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  await ready(child, endpoint);
  return {
    endpoint,
    port,
    dataDir,
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT"),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGCONT");
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves when etcd logs that it serves clients (it logs to stderr); rejects if it exits first. */
function ready(child: ChildProcess, endpoint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => fail(new Error(`etcd at ${endpoint} not ready within 15 s:\n${log.slice(-2000)}`)), 15_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    child.once("exit", (code) => fail(new Error(`etcd exited with ${code} before serving:\n${log.slice(-2000)}`)));
    child.stderr!.on("data", (d: Buffer) => {
      if (log.length < 100_000) log += d.toString();
      if (/ready to serve client requests|serving insecure client requests/.test(log)) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        child.stderr!.removeAllListeners("data");
        child.stderr!.resume();
        resolve();
      }
    });
  });
}
