import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureAuth } from "../../../scripts/lib/classroom-auth.ts";
import { authEnabled, login } from "../../../scripts/lib/etcd-auth.ts";
import { iceConfigFor, turnserverArgs, type TurnPlan } from "../../../scripts/lib/turn.ts";
import { parseIceConfig } from "../../../src/channel/ice-config.ts";
import { startEtcd, type EtcdServer } from "../../helpers/etcd-server.ts";

const turn: TurnPlan = { ips: ["192.168.1.20"], port: 3478, minPort: 49160, maxPort: 49400, user: "lockstep", secret: "s", stateDir: "/x/.classroom" };

describe("npm run classroom -- --turn: what it starts and publishes", () => {
  it("turnserver: long-term credential, the LAN address to listen and relay on, no TLS, state in .classroom", () => {
    const a = turnserverArgs(turn);
    for (const x of ["--lt-cred-mech", "--user=lockstep:s", "--listening-ip=192.168.1.20", "--relay-ip=192.168.1.20", "--listening-port=3478", "--min-port=49160", "--max-port=49400", "--no-tls", "--pidfile=/x/.classroom/turnserver.pid"]) expect(a).toContain(x);
    // Loopback peers only when a test asks: a relay into its own host is a hole on a LAN.
    expect(a).not.toContain("--allow-loopback-peers");
  });

  it("the ICE config the pages read parses back to the same relay, relay-only when asked", () => {
    const c = iceConfigFor(turn, true);
    expect(parseIceConfig(JSON.stringify(c))).toEqual({ iceServers: [{ urls: ["turn:192.168.1.20:3478?transport=udp"], username: "lockstep", credential: "s" }], iceTransportPolicy: "relay" });
    expect(iceConfigFor(turn, false).iceTransportPolicy).toBe("all");
  });
});

describe("npm run classroom -- --auth on a real etcd, started again with and without it", () => {
  let etcd: EtcdServer;
  let dir: string;
  beforeAll(async () => {
    etcd = await startEtcd();
    dir = mkdtempSync(join(tmpdir(), "lockstep-classroom-"));
  });
  afterAll(async () => {
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("on: a root password kept 0600, a new app password each start (the old one refused); off again: no login asked", async () => {
    const rootFile = join(dir, "etcd-root-password");
    const first = await configureAuth(etcd.endpoint, true, rootFile);
    expect(await authEnabled(etcd.endpoint)).toBe(true);
    expect(statSync(rootFile).mode & 0o777).toBe(0o600);
    expect(first.login!.user).toBe("lockstep");
    await expect(login(etcd.endpoint, "lockstep", first.login!.password)).resolves.toMatch(/./);

    const second = await configureAuth(etcd.endpoint, true, rootFile);
    expect(second.login!.password).not.toBe(first.login!.password);
    await expect(login(etcd.endpoint, "lockstep", first.login!.password)).rejects.toThrow(/authentication failed/);
    await expect(login(etcd.endpoint, "lockstep", second.login!.password)).resolves.toMatch(/./);
    // The app's password is printed, never stored: only root's is in the file.
    expect(readFileSync(rootFile, "utf8")).not.toContain(second.login!.password);

    expect(await configureAuth(etcd.endpoint, false, rootFile)).toEqual({ login: null, rootToken: undefined });
    expect(await authEnabled(etcd.endpoint)).toBe(false);
  });

  it("auth on but the root password file gone: a clear error naming --fresh", async () => {
    const rootFile = join(dir, "other-root-password");
    await configureAuth(etcd.endpoint, true, rootFile);
    rmSync(rootFile);
    await expect(configureAuth(etcd.endpoint, true, rootFile)).rejects.toThrow(/--fresh/);
  });
});
