/**
 * The client's network traffic (paper 2.2: "the primary's outputs ... a network packet"): a
 * request packet `q<n>` every few ms to every host (as a switch that floods: only a live primary
 * may take it in, the protocol drops it anywhere else), and the replies the guest transmits.
 * Like TCP it tolerates loss and duplicates (paper 3.4); what it must never hold is a reply from
 * a history the surviving VM does not have, which the final checks look for.
 */
import { Rng } from "./rng.ts";
import type { Scenario } from "./scenario.ts";
import { SimNetwork } from "./sim-network.ts";
import type { SimNode } from "./sim-node.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export class PacketClient {
  /** Every distinct reply received, and how many arrived again (a failover's re-sent packets, or the network's duplicates). */
  readonly replies = new Set<string>();
  duplicates = 0;
  requests = 0;
  lastReplyAt = 0;
  repliesAtBound = -1;
  private readonly net: SimNetwork;

  constructor(
    private readonly sc: Scenario & { packets: { everyMs: number } },
    private readonly q: { now: number; at(t: number, fn: () => void): void; after(ms: number, fn: () => void): void },
    private readonly hosts: () => Iterable<SimNode>,
  ) {
    // Draws of their own: the packets do not move the faults of the hosts' network.
    const rng = new Rng(sc.seed ^ 0x9ac4e7);
    this.net = new SimNetwork(sc, rng, q, rng);
  }

  start(): void {
    this.q.after(this.sc.packets.everyMs, () => this.tick());
  }

  /** A host transmitted a packet onto the network (the Output Rule cleared it). */
  transmitted(node: SimNode, bytes: Uint8Array): void {
    this.net.send(node, "client", () => {
      const r = dec.decode(bytes);
      if (this.replies.has(r)) this.duplicates++;
      else {
        this.replies.add(r);
        this.lastReplyAt = this.q.now;
      }
    });
  }

  private tick(): void {
    if (this.q.now >= this.sc.endAt - 20) return;
    const bytes = enc.encode(`q${this.requests++}`);
    for (const node of this.hosts()) if (node.alive) this.net.send("client", node, () => node.host.packet(bytes));
    this.q.after(this.sc.packets.everyMs, () => this.tick());
  }
}
