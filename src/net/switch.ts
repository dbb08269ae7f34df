// The virtual network between the client and the hosts: a learning Ethernet switch, as the
// physical network in the paper. Each host and the client is a port. The switch learns which
// port a MAC lives on from the source address of every frame; the primary and the backup share
// the guest's MAC, and only the live one transmits (the backup's packets are dropped by its
// host), so when a backup goes live and announces itself the switch moves the MAC to the new
// port (`learned` reports the move: the moment the network follows the failover).

import { BROADCAST, macString } from "./packets.ts";

export type PortId = string;

export interface SwitchStats {
  forwarded: number;
  flooded: number;
  /** Frames too short to be Ethernet, or sent on a port that is down. */
  dropped: number;
  /** A known MAC seen on another port (failover, FT VMotion). */
  moves: number;
}

export interface Learned {
  mac: string;
  port: PortId;
  previous: PortId | null;
}

export class VirtualSwitch {
  readonly stats: SwitchStats = { forwarded: 0, flooded: 0, dropped: 0, moves: 0 };
  private readonly ports = new Map<PortId, { deliver: (f: Uint8Array) => void; up: boolean; trunk: boolean }>();
  private readonly table = new Map<string, PortId>();

  constructor(private readonly onLearned: (l: Learned) => void = () => {}) {}

  /**
   * `trunk`: the port leads to another tab's switch (the network spans the tabs of a cluster).
   * The tabs' switches are fully meshed, so a frame that came in on a trunk is never flooded out
   * of another one (each switch floods only to its own hosts and client): no frame loops.
   */
  attach(id: PortId, deliver: (frame: Uint8Array) => void, opts: { trunk?: boolean } = {}): void {
    this.ports.set(id, { deliver, up: true, trunk: opts.trunk ?? false });
  }

  /** Unplugs a port (a host that died or halted); its MACs are forgotten. */
  detach(id: PortId): void {
    this.ports.delete(id);
    for (const [mac, p] of this.table) if (p === id) this.table.delete(mac);
  }

  /** A cut cable: frames to and from the port are dropped, the table is kept. */
  setLinkUp(id: PortId, up: boolean): void {
    const p = this.ports.get(id);
    if (p) p.up = up;
  }

  portOf(mac: string): PortId | undefined {
    return this.table.get(mac);
  }

  /** A frame sent into the switch on port `from`. */
  input(from: PortId, frame: Uint8Array): void {
    const src = this.ports.get(from);
    if (!src || !src.up || frame.length < 14) {
      this.stats.dropped++;
      return;
    }
    const srcMac = macString(frame, 6);
    if ((frame[6] & 1) === 0) this.learn(srcMac, from);
    const dst = macString(frame, 0);
    const to = dst === BROADCAST || (frame[0] & 1) === 1 ? undefined : this.table.get(dst);
    if (to !== undefined) {
      if (to === from) return; // already on the sender's segment
      const p = this.ports.get(to);
      if (!p || !p.up) {
        this.stats.dropped++;
        return;
      }
      this.stats.forwarded++;
      p.deliver(frame);
      return;
    }
    this.stats.flooded++;
    for (const [id, p] of this.ports) if (id !== from && p.up && !(src.trunk && p.trunk)) p.deliver(frame);
  }

  private learn(mac: string, port: PortId): void {
    const previous = this.table.get(mac) ?? null;
    if (previous === port) return;
    if (previous !== null) this.stats.moves++;
    this.table.set(mac, port);
    this.onLearned({ mac, port, previous });
  }
}
