import { describe, expect, it } from "vitest";
import { ClientStack } from "../../../src/net/client-stack.ts";
import { BROADCAST, buildArp, buildEth, ETH_ARP, macAnnouncement, macBytes, parseArp, parseEth } from "../../../src/net/packets.ts";
import { VirtualSwitch, type Learned } from "../../../src/net/switch.ts";

const GUEST = "00:22:15:aa:bb:cc";
const CLIENT = "02:00:00:00:00:02";

describe("virtual switch", () => {
  it("floods until it learns a MAC, then forwards to its port; a go-live announcement moves the MAC", () => {
    const learned: Learned[] = [];
    const sw = new VirtualSwitch((l) => learned.push(l));
    const got: Record<string, number> = { A: 0, B: 0, client: 0 };
    for (const p of ["A", "B", "client"]) sw.attach(p, () => got[p]++);
    const toGuest = buildEth(GUEST, CLIENT, 0x0800, new Uint8Array(20));
    sw.input("client", toGuest);
    expect(got).toEqual({ A: 1, B: 1, client: 0 }); // unknown: flooded
    sw.input("A", buildEth(CLIENT, GUEST, 0x0800, new Uint8Array(20)));
    expect(sw.portOf(GUEST)).toBe("A");
    sw.input("client", toGuest);
    expect(got).toEqual({ A: 2, B: 1, client: 1 }); // the client was learned from its first frame
    // A fails, B goes live and announces the MAC: traffic follows.
    sw.input("B", macAnnouncement(macBytes(GUEST)));
    expect(learned.at(-1)).toEqual({ mac: GUEST, port: "B", previous: "A" });
    expect(sw.stats.moves).toBe(1);
    sw.input("client", toGuest);
    expect(got.B).toBe(2);
  });

  it("drops runts and frames on a port whose link is down", () => {
    const sw = new VirtualSwitch();
    let n = 0;
    sw.attach("A", () => n++);
    sw.attach("client", () => n++);
    sw.input("client", new Uint8Array(10));
    sw.setLinkUp("A", false);
    sw.input("client", buildEth(BROADCAST, CLIENT, 0x0800, new Uint8Array(20)));
    expect(n).toBe(0);
    expect(sw.stats.dropped).toBe(1);
  });
});

describe("client stack", () => {
  it("resolves the guest with ARP before the SYN goes out, retries ARP, answers the guest's ARP", () => {
    const out: Uint8Array[] = [];
    const s = new ClientStack({ mac: CLIENT, ip: "10.0.2.2", isn: () => 1234, arpRetryMs: 500 }, (f) => out.push(f));
    s.connect("10.0.2.15", 80, 0);
    expect(out).toHaveLength(1);
    expect(parseEth(out[0])).toMatchObject({ dst: BROADCAST, type: ETH_ARP });
    s.tick(499);
    expect(out).toHaveLength(1);
    s.tick(500);
    expect(out).toHaveLength(2); // ARP retried
    s.receive(buildEth(CLIENT, GUEST, ETH_ARP, buildArp({ op: 2, senderMac: GUEST, senderIp: "10.0.2.15", targetMac: CLIENT, targetIp: "10.0.2.2" })), 600);
    expect(s.arpEntry("10.0.2.15")).toBe(GUEST);
    const syn = parseEth(out[2])!;
    expect(syn).toMatchObject({ dst: GUEST, type: 0x0800 });
    // The guest asks for the client's MAC: answered.
    s.receive(buildEth(BROADCAST, GUEST, ETH_ARP, buildArp({ op: 1, senderMac: GUEST, senderIp: "10.0.2.15", targetMac: "00:00:00:00:00:00", targetIp: "10.0.2.2" })), 700);
    const reply = parseArp(parseEth(out.at(-1)!)!.payload);
    expect(reply).toMatchObject({ op: 2, senderMac: CLIENT, targetMac: GUEST });
  });

  it("drops and counts malformed frames without throwing", () => {
    const s = new ClientStack({ mac: CLIENT, ip: "10.0.2.2", isn: () => 1 }, () => {});
    const bad = [new Uint8Array(3), buildEth(CLIENT, GUEST, 0x0800, new Uint8Array(5)), buildEth(CLIENT, GUEST, ETH_ARP, new Uint8Array(7))];
    for (const f of bad) s.receive(f, 0);
    expect(s.stats.dropped).toBe(3);
  });
});
