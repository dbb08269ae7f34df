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

export function connectHostsOverWebRtc(
  handToPrimary: (channel: RTCDataChannel) => void,
  handToBackup: (channel: RTCDataChannel) => void,
  label = "logging-channel",
): DataChannelPair {
  // No ICE servers: both ends are on this machine, host candidates suffice (and nothing else is reachable).
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && void b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && void a.addIceCandidate(e.candidate);

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
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
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
