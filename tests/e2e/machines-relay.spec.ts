import { expect, test } from "@playwright/test";
import { EtcdClient } from "../../src/storage/etcd/index.ts";
import { ICE_CONFIG_KEY } from "../../src/channel/ice-config.ts";
import { iceConfigFor } from "../../scripts/lib/turn.ts";
import { startEtcd, type EtcdServer } from "../helpers/etcd-server.ts";
import { startTurn, turnUnavailable, type TurnServer } from "../helpers/turn-server.ts";
import { clientText, poll, run, shows } from "./ft.ts";
import { computer, myRole, myState, primaryReady, selectedPairs, type Machine } from "./machines-rig.ts";

/**
 * The TURN relay fallback (npm run classroom -- --turn): coturn on loopback, its address and
 * credential published in etcd as the classroom's ICE config with `iceTransportPolicy: "relay"`,
 * so the two browsers' logging channel can ONLY go through the relay. The pair forms, the
 * channel's selected candidate pair is relay on both ends (getStats), and a failover under it
 * keeps every acknowledged key.
 */
let etcd: EtcdServer | undefined;
let turn: TurnServer | undefined;
const machines: Machine[] = [];

test.afterEach(async () => {
  for (const m of machines.splice(0)) await m.server.close().catch(() => undefined);
  await etcd?.stop();
  await turn?.stop();
  // Each test starts its own servers: the next afterEach must not stop these again.
  etcd = undefined;
  turn = undefined;
});

test("logging channel over a TURN relay only: the pair forms, both ends' selected candidate pair is relay, failover keeps every key", async ({ baseURL }) => {
  const why = turnUnavailable();
  // CI installs coturn (.ci/run): there a missing relay is a failure, never a quiet skip.
  if (why && process.env.CI) throw new Error(`TURN relay unavailable in CI: ${why}`);
  if (why) console.log(`skipped: ${why}`);
  test.skip(why !== null, why ?? "");
  etcd = await startEtcd({ cors: baseURL! });
  turn = await startTurn();
  const config = iceConfigFor(turn.plan, true);
  await new EtcdClient(etcd.endpoint).put(ICE_CONFIG_KEY, new TextEncoder().encode(JSON.stringify(config)));
  const url = `/?cluster=etcd&etcd=${etcd.endpoint}`;

  const a = await computer(machines, baseURL!, url);
  await primaryReady(a);
  const b = await computer(machines, baseURL!, url);
  await shows(myState(b.page), "replaying", { timeout: 180_000 });
  await run(a.page, "kv set r 1", "OK");
  await poll(() => clientText(b.page)).toContain("kv set r 1\r\nOK");

  for (const m of [a, b]) {
    const pairs = await selectedPairs(m.page);
    console.log(`selected candidate pairs: ${JSON.stringify(pairs)}`);
    expect(pairs.length).toBeGreaterThan(0);
    for (const p of pairs) expect(p).toEqual({ local: "relay", remote: "relay", policy: "relay", iceServers: 1 });
  }

  a.server.process().kill("SIGKILL");
  await shows(myRole(b.page), "primary", { timeout: 30_000 });
  await run(b.page, "kv get r", "1");
});

test("a malformed ICE config in etcd is said on the page, and the pair forms without it (host candidates)", async ({ baseURL }) => {
  etcd = await startEtcd({ cors: baseURL! });
  await new EtcdClient(etcd.endpoint).put(ICE_CONFIG_KEY, new TextEncoder().encode('{"iceServers": [{"urls": "http://not-a-turn"}]}'));
  const url = `/?cluster=etcd&etcd=${etcd.endpoint}`;
  const a = await computer(machines, baseURL!, url);
  await expect(a.page.getByTestId("etcd-notice")).toContainText(`${ICE_CONFIG_KEY}: ICE server 0 has no turn:/stun: urls`);
  // Not a storage outage: etcd stays reachable and the page goes on with host candidates.
  await expect(a.page.getByTestId("storage-reachable")).toHaveText("reachable");
  await primaryReady(a);
  const b = await computer(machines, baseURL!, url);
  await shows(myState(b.page), "replaying", { timeout: 180_000 });
  await expect(b.page.getByTestId("etcd-notice")).toContainText("ICE server 0 has no turn:/stun: urls");
  await run(a.page, "kv set m 1", "OK");
});
