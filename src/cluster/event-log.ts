import { hostEventLine, pageNoteLine, type HostEvent, type PageNoteKind, type ProtocolEvent } from "../host/events.ts";
import type { ClusterClock, ClusterTransport } from "./ports.ts";

const KEPT = 500;

/**
 * The protocol feed: what the hosts of every member did and what the cluster service itself
 * noted, in this member's page clock. Host events cross to the other members in wall-clock time.
 */
export class EventLog {
  readonly events: ProtocolEvent[] = [];
  private listeners: ((e: ProtocolEvent) => void)[] = [];

  constructor(
    private readonly clock: ClusterClock,
    private readonly transport: ClusterTransport,
  ) {
    transport.on("event", (m) => this.push({ ...m.ev, at: this.fromWall(m.ev.at) }));
  }

  /** Every event as it is logged; returns the unsubscribe. */
  onEvent(fn: (e: ProtocolEvent) => void): () => void {
    this.listeners.push(fn);
    return () => (this.listeners = this.listeners.filter((l) => l !== fn));
  }

  /** A note of the cluster service, the teaching UI or the embed API. */
  note(hostId: string, kind: PageNoteKind, text: string): void {
    this.push(pageNoteLine(hostId, this.clock.now(), kind, text));
  }

  /** An event of a host of this member: logged here and told to the other members. */
  host(hostId: string, e: HostEvent): void {
    const ev = hostEventLine(hostId, this.clock.now(), e);
    this.push(ev);
    this.transport.post({ t: "event", ev: { ...ev, at: this.toWall(ev.at) } });
  }

  private toWall(at: number): number {
    return at - this.clock.now() + this.clock.wallNow();
  }

  private fromWall(at: number): number {
    return at - this.clock.wallNow() + this.clock.now();
  }

  private push(e: ProtocolEvent): void {
    this.events.push(e);
    if (this.events.length > KEPT) this.events.splice(0, this.events.length - KEPT);
    for (const l of this.listeners) l(e);
  }
}
