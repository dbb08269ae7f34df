import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TURN_READY, turnInstalled, turnserverArgs, type TurnPlan } from "../../scripts/lib/turn.ts";
import { freePort } from "./etcd-server.ts";

/** Debian's coturn on loopback for one test: free ports, a temporary state directory. */
export interface TurnServer {
  plan: TurnPlan;
  stop(): Promise<void>;
}

/** Why the relay test cannot run here, or null. In CI (.ci/run installs coturn) absence is a failure, not a skip. */
export function turnUnavailable(): string | null {
  if (turnInstalled()) return null;
  const why = "turnserver (Debian's coturn) is not installed: sudo apt-get install -y coturn (CI installs it with scripts/ensure-coturn.sh)";
  if (process.env.CI) throw new Error(why);
  return why;
}

export async function startTurn(ips = ["127.0.0.1"]): Promise<TurnServer> {
  const stateDir = mkdtempSync(join(tmpdir(), "lockstep-turn-"));
  const port = await freePort();
  const base = 40000 + (port % 20000);
  const plan: TurnPlan = { ips, port, minPort: base, maxPort: base + 200, user: "lockstep", secret: `test-${port}`, stateDir, allowLoopback: true };
  const child = spawn("turnserver", turnserverArgs(plan), { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`turnserver not ready within 10 s:\n${log.slice(-2000)}`)), 10_000);
    child.once("exit", (code) => reject(new Error(`turnserver exited with ${code}:\n${log.slice(-2000)}`)));
    child.stdout!.on("data", (d: Buffer) => {
      if (log.length < 100_000) log += d.toString();
      if (TURN_READY.test(log)) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve();
      }
    });
    child.stderr!.resume();
  });
  return {
    plan,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
