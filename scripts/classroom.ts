// `npm run classroom`: the two-computer mode on the teacher's machine (issue 14). Starts etcd
// (Debian's etcd-server) with its data in .classroom/, builds the app if dist/ is older than the
// sources, serves dist/ to the LAN, prints the address each computer opens, and stops it all on
// Ctrl-C. Nothing of ours runs between the browsers but etcd and a static file server.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { networkInterfaces } from "node:os";
import path from "node:path";
import { cli } from "./lib/args.ts";
import { classroomUrls, etcdArgs, INSTALL_ETCD, lanIps, type ClassroomPlan } from "./lib/classroom-plan.ts";

/** The LAN origins a browser must treat as secure (comma-separated, as Chrome's flag takes them). */
const appOriginsForFlag = (p: ClassroomPlan) => (p.lanIps.length > 0 ? p.lanIps : ["<lan-ip>"]).map((h) => `http://${h}:${p.appPort}`).join(",");
import { ROOT } from "./lib/paths.ts";
import { configureAuth } from "./lib/classroom-auth.ts";
import { publish, newPassword } from "./lib/etcd-auth.ts";
import { iceConfigFor, INSTALL_COTURN, TURN_READY, turnInstalled, turnserverArgs, type TurnPlan } from "./lib/turn.ts";
import { ICE_CONFIG_KEY } from "../src/channel/ice-config.ts";

const { options: args } = cli({
  usage: "npm run classroom -- [options]",
  about: "Starts etcd and serves the app to the LAN: primary and backup on different computers.",
  options: {
    port: { type: "int", min: 1, max: 65535, default: 4180, help: "port the app is served on (every interface)" },
    "etcd-port": { type: "int", min: 1, max: 65535, default: 23790, help: "etcd's client port (every interface)" },
    "peer-port": { type: "int", min: 1, max: 65535, default: 23800, help: "etcd's peer port (loopback only)" },
    retention: { type: "string", default: "1m", help: "etcd history kept before compaction (periodic, e.g. 1m, 1h)" },
    "quota-mib": { type: "int", min: 16, default: 1024, help: "etcd database quota in MiB" },
    fresh: { type: "flag", help: "delete .classroom/etcd first (a new cluster, nothing kept)" },
    "no-build": { type: "flag", help: "serve dist/ as it is" },
    auth: { type: "flag", help: "turn etcd's authentication on: each page asks for a user and password (printed once, a new one every start)" },
    turn: { type: "flag", help: "start a TURN relay (Debian's coturn) on the LAN addresses, for networks where the browsers cannot reach each other" },
    "turn-port": { type: "int", min: 1, max: 65535, default: 3478, help: "the TURN relay's port (UDP); relayed ports are 49160–49400" },
    "relay-only": { type: "flag", help: "with --turn: the logging channel may ONLY go through the relay (to check the relay works)" },
  },
});

if (args["relay-only"] && !args.turn) {
  console.error("--relay-only needs --turn (there is no relay to go through without it)\n(usage: npm run classroom -- [options]; --help lists the options)");
  process.exit(2);
}
if (spawnSync("etcd", ["--version"], { stdio: "ignore" }).status !== 0) {
  console.error(INSTALL_ETCD);
  process.exit(1);
}
if (args.turn && !turnInstalled()) {
  console.error(INSTALL_COTURN);
  process.exit(1);
}

const dataDir = path.join(ROOT, ".classroom/etcd");
if (args.fresh) rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
const plan: ClassroomPlan = {
  lanIps: lanIps(networkInterfaces()),
  appPort: args.port,
  etcdPort: args["etcd-port"],
  peerPort: args["peer-port"],
  dataDir,
  retention: args.retention,
  quotaBytes: args["quota-mib"] * 1024 * 1024,
};

/** Newest modification time under `dir` (the build is stale if a source is newer than dist/). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const builtAt = existsSync(path.join(ROOT, "dist/index.html")) ? statSync(path.join(ROOT, "dist/index.html")).mtimeMs : 0;
if (!args["no-build"] && builtAt < Math.max(newest(path.join(ROOT, "src")), newest(path.join(ROOT, "public")))) {
  console.log("building the app (dist/ is missing or older than the sources)…");
  if (spawnSync("npx", ["vite", "build", "--logLevel", "error"], { cwd: ROOT, stdio: "inherit" }).status !== 0) process.exit(1);
}

const children: ChildProcess[] = [];
let stopping = false;
function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  // Exit once every child has: etcd flushes its data directory on SIGTERM.
  const left = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (left.length === 0) process.exit(code);
  let waiting = left.length;
  for (const c of left) c.once("exit", () => --waiting === 0 && process.exit(code));
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

function start(name: string, cmd: string, argv: string[], readyLine: RegExp): Promise<void> {
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let log = "";
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
      if (readyLine.test(log)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      if (stopping) return;
      console.error(`${name} stopped (exit ${code}); its last output:\n${log}`);
      stopAll(1);
    });
  });
}

const turnPlan: TurnPlan | null = args.turn
  ? { ips: plan.lanIps.length > 0 ? plan.lanIps : ["127.0.0.1"], port: args["turn-port"], minPort: 49160, maxPort: 49400, user: "lockstep", secret: newPassword(), stateDir: path.join(ROOT, ".classroom") }
  : null;

await Promise.all([
  start("etcd", "etcd", etcdArgs(plan), /ready to serve client requests|serving insecure client requests/),
  ...(turnPlan ? [start("turnserver", "turnserver", turnserverArgs(turnPlan), TURN_READY)] : []),
  // vite itself, not through npx: a signal to this script must reach the server, not a wrapper.
  start("app server", path.join(ROOT, "node_modules/.bin/vite"), ["preview", "--host", "0.0.0.0", "--port", String(plan.appPort), "--strictPort"], /Local:|localhost:|127\.0\.0\.1:/),
]);

// Authentication and the relay's address live in etcd, so they are set once etcd answers.
const etcdUrl = `http://127.0.0.1:${plan.etcdPort}`;
let login: { user: string; password: string } | null = null;
try {
  const access = await configureAuth(etcdUrl, args.auth, path.join(ROOT, ".classroom/etcd-root-password"));
  login = access.login;
  await publish(etcdUrl, ICE_CONFIG_KEY, turnPlan ? JSON.stringify(iceConfigFor(turnPlan, args["relay-only"])) : null, access.rootToken);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  stopAll(1);
}

const urls = classroomUrls(plan);
console.log(`
Lockstep classroom: etcd on port ${plan.etcdPort} (data in .classroom/etcd, history kept ${plan.retention}, quota ${args["quota-mib"]} MiB),
the app on port ${plan.appPort}. Open on EACH computer (the first to open starts the primary, the next the backup):

${urls.map((u) => `  ${u}`).join("\n")}
${plan.lanIps.length === 0 ? "\n  (no LAN address found: only this machine can join)\n" : ""}
A page from http://<lan-ip> is not a "secure context" (only https and localhost are), and Lockstep
needs one (WebCrypto, workers' storage): start Chrome or Chromium on each OTHER computer with
  --unsafely-treat-insecure-origin-as-secure=${appOriginsForFlag(plan)}
(or set that origin in chrome://flags/#unsafely-treat-insecure-origin-as-secure and relaunch).
If the second computer never becomes the backup, the browsers found no path to each other: Chrome
names its LAN address by an mDNS .local name, which the network must resolve (README: Two computers).
${login ? `
etcd asks every page for a user and password (printed only here; a new password every start):
  user ${login.user}   password ${login.password}
` : ""}${turnPlan ? `
TURN relay (coturn) on ${turnPlan.ips.map((ip) => `${ip}:${turnPlan.port}`).join(", ")} (UDP; relayed ports ${turnPlan.minPort}–${turnPlan.maxPort}); the pages read
its address and credential from etcd.${args["relay-only"] ? " Relay only: the logging channel goes through it or not at all." : ""}
` : ""}
Ctrl-C stops etcd, the server${turnPlan ? " and the relay" : ""} (the cluster's data stays in .classroom/; --fresh starts over).`);
