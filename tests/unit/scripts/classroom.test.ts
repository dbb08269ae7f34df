import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appOrigins, classroomUrls, etcdArgs, lanIps, type ClassroomPlan } from "../../../scripts/lib/classroom-plan.ts";
import { freePort } from "../../helpers/etcd-server.ts";

const plan = (over: Partial<ClassroomPlan> = {}): ClassroomPlan => ({
  lanIps: ["192.168.1.20"],
  appPort: 4180,
  etcdPort: 23790,
  peerPort: 23800,
  dataDir: "/x/.classroom/etcd",
  retention: "1m",
  quotaBytes: 1 << 30,
  ...over,
});

describe("npm run classroom: what it starts", () => {
  it("LAN addresses are the IPv4 ones other computers can reach", () => {
    const ifaces = {
      lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
      eth0: [
        { address: "192.168.1.20", family: "IPv4", internal: false },
        { address: "fe80::1", family: "IPv6", internal: false },
      ],
      wlan0: [{ address: "10.0.0.7", family: "IPv4", internal: false }],
    } as unknown as Parameters<typeof lanIps>[0];
    expect(lanIps(ifaces)).toEqual(["192.168.1.20", "10.0.0.7"]);
  });

  it("each computer opens the app and etcd at the same LAN address", () => {
    expect(classroomUrls(plan())).toEqual(["http://192.168.1.20:4180/?cluster=etcd&etcd=http://192.168.1.20:23790"]);
    const url = new URL(classroomUrls(plan())[0]!);
    expect([url.searchParams.get("cluster"), url.searchParams.get("etcd")]).toEqual(["etcd", "http://192.168.1.20:23790"]);
    expect(classroomUrls(plan({ lanIps: [] }))).toEqual(["http://127.0.0.1:4180/?cluster=etcd&etcd=http://127.0.0.1:23790"]);
  });

  it("etcd: clients from every interface, CORS for exactly the app's origins, compaction and a quota", () => {
    const a = etcdArgs(plan());
    expect(a).toContain("--listen-client-urls=http://0.0.0.0:23790");
    expect(a).toContain(`--cors=${appOrigins(plan()).join(",")}`);
    expect(appOrigins(plan())).toEqual(["http://192.168.1.20:4180", "http://127.0.0.1:4180", "http://localhost:4180"]);
    expect(a).toEqual(expect.arrayContaining(["--auto-compaction-mode=periodic", "--auto-compaction-retention=1m", `--quota-backend-bytes=${1 << 30}`]));
  });

  it("that command line starts Debian's etcd, which answers the app origin's CORS preflight and no other", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "classroom-etcd-"));
    const p = plan({ lanIps: [], etcdPort: await freePort(), peerPort: await freePort(), dataDir });
    const child = spawn("etcd", etcdArgs(p), { stdio: ["ignore", "ignore", "pipe"] });
    try {
      await new Promise<void>((resolve, reject) => {
        let log = "";
        child.once("exit", (c) => reject(new Error(`etcd exited ${c}: ${log.slice(-1500)}`)));
        child.stderr!.on("data", (d: Buffer) => {
          log += d.toString();
          if (/ready to serve client requests/.test(log)) resolve();
        });
      });
      const preflight = (origin: string) =>
        fetch(`http://127.0.0.1:${p.etcdPort}/v3/kv/txn`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
      expect((await preflight(`http://127.0.0.1:${p.appPort}`)).headers.get("access-control-allow-origin")).toBe(`http://127.0.0.1:${p.appPort}`);
      expect((await preflight("http://elsewhere.example")).headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      child.removeAllListeners("exit");
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
