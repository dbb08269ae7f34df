import { describe, expect, it } from "vitest";
import { missingFeatures, type Browserish } from "../../../src/ui/lib/support.ts";

/** A Worker constructor that reads `type` as the browsers that know module workers do. */
class ModuleWorker {
  constructor(_url: string, options: { type?: string }) {
    void options.type;
  }
  terminate(): void {}
}
/** One that predates module workers: it never looks at `type` (and so would run a classic worker). */
class ClassicWorker {
  constructor(_url: string, _options: object) {}
  terminate(): void {}
}
/** WebRTC whose data channels can be transferred (the probe posts one over a MessageChannel). */
class PeerConnection {
  createDataChannel() {
    return { transferable: true };
  }
  close(): void {}
}
class Channel {
  port1 = { postMessage: (_m: unknown, transfer: { transferable?: boolean }[]) => {
    if (!transfer[0]?.transferable) throw new DOMException("RTCDataChannel could not be cloned.", "DataCloneError");
  }, close() {} };
  port2 = { close() {} };
}

const full = (): Browserish => ({
  isSecureContext: true,
  Worker: ModuleWorker,
  WebAssembly: {},
  indexedDB: {},
  crypto: { subtle: {} },
  BroadcastChannel: class {},
  navigator: { locks: {} },
  RTCPeerConnection: PeerConnection,
  MessageChannel: Channel,
});
const ids = (mode: "ft" | "tabs" | "plain", g: Browserish) => missingFeatures(mode, g).map((f) => f.id);

describe("what the browser lacks, by mode", () => {
  it("a browser with everything lacks nothing in any mode", () => {
    for (const mode of ["ft", "tabs", "plain"] as const) expect(ids(mode, full())).toEqual([]);
  });

  it("a worker constructor that ignores { type: 'module' } is told apart from one that reads it", () => {
    expect(ids("plain", { ...full(), Worker: ClassicWorker })).toEqual(["module-workers"]);
    expect(ids("plain", { ...full(), Worker: undefined })).toEqual(["module-workers"]);
  });

  it("each feature is named in the modes that need it, and only there", () => {
    expect(ids("plain", { ...full(), indexedDB: null })).toEqual([]);
    expect(ids("ft", { ...full(), indexedDB: null })).toEqual(["indexeddb"]);
    expect(ids("ft", { ...full(), BroadcastChannel: undefined, navigator: {} })).toEqual([]);
    expect(ids("tabs", { ...full(), BroadcastChannel: undefined, navigator: {} })).toEqual(["broadcast-channel", "web-locks"]);
    expect(ids("plain", { ...full(), WebAssembly: undefined })).toEqual(["webassembly"]);
  });

  it("an insecure page (plain http to a LAN address) has no crypto.subtle, and is told why", () => {
    expect(ids("ft", { ...full(), isSecureContext: false, crypto: {} })).toEqual(["secure-context", "crypto-subtle"]);
  });

  it("data channels that cannot be transferred (DataCloneError) or no WebRTC at all fail the tab mode only", () => {
    class OldPeerConnection extends PeerConnection {
      override createDataChannel() {
        return { transferable: false };
      }
    }
    expect(ids("tabs", { ...full(), RTCPeerConnection: OldPeerConnection })).toEqual(["datachannel-transfer"]);
    expect(ids("tabs", { ...full(), RTCPeerConnection: undefined })).toEqual(["datachannel-transfer"]);
    // The one-page pair falls back to a MessageChannel between its workers.
    expect(ids("ft", { ...full(), RTCPeerConnection: undefined })).toEqual([]);
  });
});
