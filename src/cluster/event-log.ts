import { hostEventLine, pageNoteLine, type HostEvent, type PageNoteKind, type ProtocolEvent } from "../host/events.ts";
import type { ClusterClock, ClusterTransport } from "./ports.ts";

const KEPT = 500;

/**
 * The protocol feed: what the hosts of every member did and what the cluster service itself
 * noted, in this member's page clock. Host events cross to the other members in wall-clock time.
 * A member that joins late (a tab opened after things happened) asks the others for the feed
 * so far (`requestHistory`) and puts what happened before it listened in front of its own.
 */
export class EventLog {
  readonly events: ProtocolEvent[] = [];
  private listeners: ((e: ProtocolEvent) => void)[] = [];
  /** When this member began to hear the others' events: anything older it can only get as history. */
  private readonly since: number;
  private historyAsked = false;
  private historyTaken = false;

  constructor(
    private readonly clock: ClusterClock,
    private readonly transport: ClusterTransport,
  ) {
    this.since = clock.now();
    transport.on("event", (m) => this.push({ ...m.ev, at: this.fromWall(m.ev.at) }));
    transport.on("feed-req", (m) => {
      if (m.tab === transport.self || this.events.length === 0) return;
      transport.post({ t: "feed", to: m.tab, from: transport.self, events: this.events.map((e) => ({ ...e, at: this.toWall(e.at) })) });
    });
    transport.on("feed", (m) => m.to === transport.self && this.history(m.from, m.events));
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

  /** A member joining: ask the others for the feed so far (the first answer is taken). */
  requestHistory(): void {
    this.historyAsked = true;
    this.transport.post({ t: "feed-req", tab: this.transport.self });
  }

  /**
   * Another member's feed: the events from before this member listened go in front, said in a
   * line of their own. Every member that heard the request answers with the same host events
   * (each also with its own notes): one answer is enough, the first one.
   */
  private history(from: string, events: readonly ProtocolEvent[]): void {
    if (!this.historyAsked || this.historyTaken) return;
    this.historyTaken = true;
    const earlier = events.map((e) => ({ ...e, at: this.fromWall(e.at) })).filter((e) => e.at < this.since);
    if (earlier.length === 0) return;
    this.events.unshift(...earlier);
    if (this.events.length > KEPT) this.events.splice(0, this.events.length - KEPT);
    this.note("page", "membership", `the feed before this tab joined: ${earlier.length} earlier events, as tab ${from} saw them`);
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
