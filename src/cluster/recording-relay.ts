import type { ClusterClock, ClusterTransport } from "./ports.ts";
import type { LocalHosts } from "./local-hosts.ts";

/** How long a tab waits for the live primary's member to send its recording (it may be large: a clone's snapshot). */
export const RECORDING_WAIT_MS = 15_000;

/**
 * The live primary's session recording, whichever member runs it (the timeline's export and
 * replay). In the one page every host is local; between tabs the live primary is usually in
 * another tab, so this member asks over the transport and the member whose host is the live
 * primary answers with the file. Only that member answers: the others have nothing to say.
 */
export class RecordingRelay {
  private next = 1;
  private readonly waiting = new Map<number, (bytes: Uint8Array) => void>();

  constructor(
    private readonly clock: ClusterClock,
    private readonly transport: ClusterTransport,
    private readonly hosts: LocalHosts,
  ) {
    transport.on("recording-req", (m) => void this.answer(m.tab, m.id));
    transport.on("recording", (m) => {
      if (m.to !== transport.self) return;
      this.waiting.get(m.id)?.(m.bytes);
      this.waiting.delete(m.id);
    });
  }

  /** The live primary's recording: from our own host if it is the live primary, else from its member. */
  recording(): Promise<Uint8Array> {
    const local = this.hosts.livePrimary();
    if (local) return local.handle.recording();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const cancel = this.clock.after(RECORDING_WAIT_MS, () => {
        if (!this.waiting.delete(id)) return;
        reject(new Error(`no live primary answered within ${RECORDING_WAIT_MS / 1000} s (none is live, or its tab is busy)`));
      });
      this.waiting.set(id, (bytes) => {
        cancel();
        resolve(bytes);
      });
      this.transport.post({ t: "recording-req", tab: this.transport.self, id });
    });
  }

  private async answer(tab: string, id: number): Promise<void> {
    const p = this.hosts.livePrimary();
    if (!p) return;
    try {
      this.transport.post({ t: "recording", to: tab, id, bytes: await p.handle.recording() });
    } catch {
      // The host failed meanwhile: the asking tab's wait ends with its timeout, which says so.
    }
  }
}
