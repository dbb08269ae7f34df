import { describe, expect, it } from "vitest";
import { ClientNetwork, CLIENT_IP, CLIENT_MAC, GUEST_IP } from "../../../src/cluster/client-network.ts";
import type { ClusterClock, HostHandle } from "../../../src/cluster/ports.ts";
import { buildArp, buildEth, ETH_ARP, macAnnouncement, macBytes, parseEth } from "../../../src/net/packets.ts";

const GUEST_MAC = "00:22:15:aa:bb:cc";
const clock: ClusterClock = { now: () => 0, wallNow: () => 0, every: () => () => {}, after: () => () => {} };

function rig() {
  const got: Record<string, Uint8Array[]> = {};
  const hosts = ["A#1", "B#1"].map((id) => {
    got[id] = [];
    return { id, dead: false, handle: { id, packet: (f: Uint8Array) => got[id].push(f) } as unknown as HostHandle };
  });
  const list = { hosts };
  const net = new ClientNetwork(clock, () => list.hosts, () => {});
  return { net, hosts, got, list };
}
const arpReply = () => buildEth(CLIENT_MAC, GUEST_MAC, ETH_ARP, buildArp({ op: 2, senderMac: GUEST_MAC, senderIp: GUEST_IP, targetMac: CLIENT_MAC, targetIp: CLIENT_IP }));

describe("the page's network", () => {
  it("floods the client's ARP to every host, then follows the VM's MAC from the primary's port to the promoted backup's", () => {
    const { net, hosts, got } = rig();
    net.download("/");
    expect(got["A#1"]).toHaveLength(1); // the ARP request, to everyone
    expect(got["B#1"]).toHaveLength(1);
    net.fromHost("A#1", arpReply()); // only the primary's Output Rule releases it
    expect(net.view().learned.map((l) => [l.mac, l.port])).toContainEqual([GUEST_MAC, "A#1"]);
    const syn = got["A#1"].at(-1)!;
    expect(parseEth(syn)).toMatchObject({ dst: GUEST_MAC, type: 0x0800 });
    expect(got["B#1"]).toHaveLength(1); // the SYN went to A#1 only
    // A#1 dies; B#1 goes live and announces the MAC.
    hosts[0].dead = true;
    net.fromHost("B#1", macAnnouncement(macBytes(GUEST_MAC)));
    expect(net.view().learned.at(-1)).toMatchObject({ mac: GUEST_MAC, port: "B#1" });
  });

  it("a host gone from the list (New pair) is unplugged: the next VM's MAC is not looked for behind it", () => {
    const { net, got, list } = rig();
    net.download("/");
    net.fromHost("A#1", arpReply());
    const before = got["A#1"].length;
    list.hosts = [{ id: "A#2", dead: false, handle: { id: "A#2", packet: (f: Uint8Array) => (got["A#2"] ??= []).push(f) } as unknown as HostHandle }];
    net.download("/");
    expect(got["A#1"].length).toBe(before);
    expect(got["A#2"]?.length ?? 0).toBeGreaterThan(0);
  });
});
