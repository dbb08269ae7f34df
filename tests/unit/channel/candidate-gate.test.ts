import { describe, expect, it } from "vitest";
import { CandidateGate } from "../../../src/channel/webrtc-pair.ts";

/**
 * The one page's pair (webrtc-pair.ts): a candidate handed to a peer connection before its remote
 * description is set is refused, so the gate holds them until then (issue 17: in Firefox every
 * candidate of both sides was sometimes refused and the data channel never opened).
 */
describe("ICE candidates of the one page's pair", () => {
  it("holds candidates until the remote description is set, then adds them in order, later ones at once", async () => {
    let remoteSet = false;
    const added: string[] = [];
    // A peer connection as the browser has it: refuses a candidate while it has no remote description.
    const addIceCandidate = (c: string) => (remoteSet ? (added.push(c), Promise.resolve()) : Promise.reject(new Error("InvalidStateError")));
    const gate = new CandidateGate(addIceCandidate);
    gate.add("host 1");
    gate.add("host 2");
    expect(added).toEqual([]);
    remoteSet = true;
    gate.open();
    gate.add("host 3");
    await Promise.resolve();
    expect(added).toEqual(["host 1", "host 2", "host 3"]);
  });

  it("a candidate refused after all does not throw (ICE may find a path through the others)", async () => {
    const gate = new CandidateGate<string>(() => Promise.reject(new Error("refused")));
    gate.open();
    expect(() => gate.add("bad")).not.toThrow();
    await new Promise((r) => setImmediate(r));
  });
});
