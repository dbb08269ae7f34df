import "webrtc-adapter";
import type { BroadcastBus } from "./broadcast-bus.ts";
import type { BusMsg } from "../messages.ts";
import { NO_ICE, type IceConfig } from "../../channel/ice-config.ts";

/**
 * The logging channel between hosts in two tabs: a WebRTC data channel whose offer, answer
 * and ICE candidates travel over the tab bus (BroadcastChannel; between computers, etcd). No ICE
 * servers between tabs: host candidates suffice. Between computers the ICE servers (a TURN
 * relay) are what etcd's cluster config says (`iceConfig`, src/channel/ice-config.ts).
 *
 * RTCPeerConnection exists only in the page, but the data channel must live in the host worker:
 * Chromium allows the transfer only at once (the creator right after createDataChannel, the
 * receiver synchronously inside ondatachannel), so `handToHost` is called exactly there and must
 * transfer synchronously. Log entries never pass through the page.
 */
export interface TabLink {
  readonly id: string;
  readonly peerTab: string;
  readonly pc: RTCPeerConnection;
  close(): void;
}

type Signal = Extract<BusMsg, { t: "signal" }>;

/** What signalling needs of a bus: the tabs' BroadcastChannel, or etcd between computers. */
export type SignalBus = Pick<BroadcastBus, "on" | "post">;

/** Routes signalling messages addressed to this tab to the link they belong to. */
export class Signalling {
  private readonly links = new Map<string, { pc: RTCPeerConnection; pending: RTCIceCandidateInit[]; remoteSet: boolean }>();
  /** Offers for links this tab did not start: the caller decides whether to answer. */
  onOffer: ((link: string, from: string, host: string, sdp: RTCSessionDescriptionInit) => void) | null = null;

  /** Between computers, set from etcd's cluster config when this member joins (before any link). */
  iceConfig: IceConfig = NO_ICE;

  constructor(
    private readonly bus: SignalBus,
    private readonly me: string,
  ) {
    bus.on("signal", (m) => {
      if (m.to === me) void this.onSignal(m);
    });
  }

  /** Creator side: the data channel is created and handed to the host before anything else. */
  offer(peerTab: string, host: string, handToHost: (dc: RTCDataChannel) => void): TabLink {
    const id = `${this.me}>${peerTab}@${Date.now().toString(36)}`;
    const pc = this.newPc(id, peerTab);
    const dc = pc.createDataChannel("logging-channel", { ordered: true });
    handToHost(dc);
    void (async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.bus.post({ t: "signal", link: id, from: this.me, to: peerTab, kind: "offer", host, data: pc.localDescription!.toJSON() });
    })();
    return this.handle(id, peerTab, pc);
  }

  /** Receiver side: answer an offer; the data channel goes to the host inside ondatachannel. */
  answer(link: string, fromTab: string, sdp: RTCSessionDescriptionInit, handToHost: (dc: RTCDataChannel) => void): TabLink {
    const pc = this.newPc(link, fromTab);
    pc.ondatachannel = (e) => handToHost(e.channel);
    void (async () => {
      await pc.setRemoteDescription(sdp);
      this.markRemoteSet(link);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.bus.post({ t: "signal", link, from: this.me, to: fromTab, kind: "answer", data: pc.localDescription!.toJSON() });
    })();
    return this.handle(link, fromTab, pc);
  }

  private newPc(id: string, peerTab: string): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.iceConfig.iceServers, iceTransportPolicy: this.iceConfig.iceTransportPolicy });
    pc.onicecandidate = (e) => {
      if (e.candidate) this.bus.post({ t: "signal", link: id, from: this.me, to: peerTab, kind: "ice", data: e.candidate.toJSON() });
    };
    this.links.set(id, { pc, pending: [], remoteSet: false });
    return pc;
  }

  private handle(id: string, peerTab: string, pc: RTCPeerConnection): TabLink {
    return {
      id,
      peerTab,
      pc,
      close: () => {
        pc.close();
        this.links.delete(id);
      },
    };
  }

  private markRemoteSet(link: string): void {
    const l = this.links.get(link);
    if (!l) return;
    l.remoteSet = true;
    for (const c of l.pending.splice(0)) void l.pc.addIceCandidate(c).catch(() => {});
  }

  private async onSignal(m: Signal): Promise<void> {
    if (m.kind === "offer") {
      this.onOffer?.(m.link, m.from, m.host, m.data as RTCSessionDescriptionInit);
      return;
    }
    const l = this.links.get(m.link);
    if (!l) return;
    if (m.kind === "answer") {
      await l.pc.setRemoteDescription(m.data as RTCSessionDescriptionInit);
      this.markRemoteSet(m.link);
    } else if (l.remoteSet) {
      await l.pc.addIceCandidate(m.data as RTCIceCandidateInit).catch(() => {});
    } else {
      // Candidates can overtake the description they belong to: hold them until it is set.
      l.pending.push(m.data as RTCIceCandidateInit);
    }
  }
}
