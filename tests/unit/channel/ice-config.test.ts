import { describe, expect, it } from "vitest";
import { parseIceConfig } from "../../../src/channel/ice-config.ts";

describe("the classroom's ICE config (stored in etcd by npm run classroom -- --turn)", () => {
  it("a TURN server with its credentials, relay only", () => {
    const text = JSON.stringify({ iceServers: [{ urls: "turn:192.168.1.20:3478?transport=udp", username: "lockstep", credential: "s3cret" }], iceTransportPolicy: "relay" });
    expect(parseIceConfig(text)).toEqual({ iceServers: [{ urls: ["turn:192.168.1.20:3478?transport=udp"], username: "lockstep", credential: "s3cret" }], iceTransportPolicy: "relay" });
  });

  it("the policy defaults to all; a STUN server needs no credentials", () => {
    expect(parseIceConfig('{"iceServers":[{"urls":["stun:10.0.0.1:3478"]}]}')).toEqual({ iceServers: [{ urls: ["stun:10.0.0.1:3478"] }], iceTransportPolicy: "all" });
  });

  it.each([
    ["not json", /not JSON/],
    ["{}", /no iceServers/],
    ['{"iceServers":[{"urls":"http://x"}]}', /no turn:\/stun: urls/],
    ['{"iceServers":[{"urls":"turn:x:1"}]}', /needs a username and credential/],
    ['{"iceServers":[],"iceTransportPolicy":"relay"}', /relay only but names no TURN/],
    ['{"iceServers":[],"iceTransportPolicy":"none"}', /neither "all" nor "relay"/],
  ])("refuses %s with the reason", (text, reason) => {
    expect(() => parseIceConfig(text)).toThrow(reason);
  });
});
