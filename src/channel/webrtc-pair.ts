import "webrtc-adapter";

/**
 * Connects two hosts of one page with a WebRTC data channel: the logging channel.
 *
 * RTCPeerConnection exists only on the page, but Chromium lets a data channel be transferred to
 * a worker if it happens at once (the creator right after createDataChannel, the receiver
 * synchronously in ondatachannel); later transfers fail with DataCloneError. So the page only
 * signals, and log entries never pass through it.
 */
export interface DataChannelPair {
  /** Resolves once both ends are handed over and the connection is up. */
  connected: Promise<void>;
  close(): void;
}

/**
 * ICE candidates for one peer connection: held until its remote description is set (`open`),
 * then added in the order they came. An added candidate that is refused anyway is reported on the
 * console, not thrown: ICE may still find a path through the others.
 */
export class CandidateGate<C = RTCIceCandidateInit> {
  private held: C[] | null = [];

  constructor(private readonly addNow: (candidate: C) => Promise<void>) {}

  add(candidate: C): void {
    if (this.held) this.held.push(candidate);
    else this.deliver(candidate);
  }

  /** The remote description is set: candidates go through from now on. */
  open(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const c of held) this.deliver(c);
  }

  private deliver(candidate: C): void {
    this.addNow(candidate).catch((e: unknown) => console.warn(`ICE candidate refused: ${String(e)}`));
  }
}

export function connectHostsOverWebRtc(
  handToPrimary: (channel: RTCDataChannel) => void,
  handToBackup: (channel: RTCDataChannel) => void,
  label = "logging-channel",
): DataChannelPair {
  // No ICE servers: both ends are on this machine, host candidates suffice (and nothing else is reachable).
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  // Each side's candidates wait for the other side's remote description: Firefox gathers them as
  // soon as setLocalDescription starts, and one added before the remote description is refused
  // (InvalidStateError). With every candidate of both sides refused ICE has no path and the data
  // channel never opens (seen in 1 of 3 runs of the Firefox smoke test).
  const toA = new CandidateGate((c) => a.addIceCandidate(c));
  const toB = new CandidateGate((c) => b.addIceCandidate(c));
  a.onicecandidate = (e) => e.candidate && toB.add(e.candidate);
  b.onicecandidate = (e) => e.candidate && toA.add(e.candidate);

  let backupHanded: () => void;
  const handedOver = new Promise<void>((resolve) => (backupHanded = resolve));
  b.ondatachannel = (e) => {
    handToBackup(e.channel);
    backupHanded();
  };
  const dc = a.createDataChannel(label, { ordered: true });
  handToPrimary(dc);

  const connected = (async () => {
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    toB.open();
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
    toA.open();
    await handedOver;
  })();

  return {
    connected,
    close() {
      a.close();
      b.close();
    },
  };
}
