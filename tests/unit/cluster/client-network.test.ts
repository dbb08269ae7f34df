import { describe, expect, it } from "vitest";
import { InMemoryHub } from "../../../src/cluster/adapters/in-memory-transport.ts";
import { ClientNetwork, CLIENT_IP, CLIENT_MAC, GUEST_IP, tabNetworkOptions } from "../../../src/cluster/client-network.ts";
import type { ClusterClock, ClusterTransport, HostHandle } from "../../../src/cluster/ports.ts";
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

describe("the network across tabs", () => {
  /** Tabs X, Y, Z, each with its own switch and client; Y runs the live host B#1. Frames between tabs go at once. */
  function tabs() {
    const nets = new Map<string, ClientNetwork>();
    const trunkFrames: string[] = [];
    const b1: Uint8Array[] = [];
    const make = (tab: string, n: number, hosts: { id: string; dead: boolean; handle: HostHandle }[]) => {
      const net = new ClientNetwork(clock, () => hosts, () => {}, {
        address: () => Promise.resolve(n),
        members: {
          others: () => ["X", "Y", "Z"].filter((t) => t !== tab),
          send: (to, frame) => {
            trunkFrames.push(`${tab}>${to}`);
            nets.get(to)!.fromMember(tab, frame);
          },
        },
      });
      nets.set(tab, net);
      return net;
    };
    const x = make("X", 20, []);
    const y = make("Y", 21, [{ id: "B#1", dead: false, handle: { id: "B#1", packet: (f: Uint8Array) => b1.push(f) } as unknown as HostHandle }]);
    make("Z", 22, []);
    return { x, y, b1, trunkFrames };
  }

  it("a tab's client reaches the live host in another tab, and the guest's answer comes back to that tab only", async () => {
    const { x, y, b1, trunkFrames } = tabs();
    x.download("/");
    expect(x.view().clientIp).toBeNull(); // the address is still being picked
    await Promise.resolve();
    expect(x.view().clientIp).toBe("10.0.2.20");
    // The ARP request is flooded to both other tabs, and by each to its own hosts only (no trunk to trunk).
    expect(trunkFrames).toEqual(["X>Y", "X>Z"]);
    expect(b1).toHaveLength(1);
    expect(parseEth(b1[0])).toMatchObject({ type: ETH_ARP, src: "02:00:00:00:00:14" });
    // B#1's guest answers the client of tab X: Y's switch learned X's client behind the trunk to X.
    const reply = buildEth("02:00:00:00:00:14", GUEST_MAC, ETH_ARP, buildArp({ op: 2, senderMac: GUEST_MAC, senderIp: GUEST_IP, targetMac: "02:00:00:00:00:14", targetIp: "10.0.2.20" }));
    y.fromHost("B#1", reply);
    expect(trunkFrames.slice(2)).toEqual(["Y>X", "X>Y"]); // the reply to X; then X's SYN, straight to Y
    expect(parseEth(b1.at(-1)!)).toMatchObject({ dst: GUEST_MAC, type: 0x0800 });
    expect(x.view().learned.find((l) => l.mac === GUEST_MAC)?.port).toBe("tab:Y");
  });

  it("tabs take different client addresses, and a closed tab's address is free again", async () => {
    const hub = new InMemoryHub();
    const [a, b] = [hub.join("A"), hub.join("B")];
    const pick = (t: ClusterTransport) => tabNetworkOptions(t, () => []).address!();
    expect(await pick(a)).toBe(2);
    expect(await pick(b)).toBe(3);
    a.close();
    expect(await pick(hub.join("C"))).toBe(2);
  });
});
