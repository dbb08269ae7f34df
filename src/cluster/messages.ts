import type { ToClientMsg } from "../ft/protocol/index.ts";
import type { HostStatus } from "../host/status.ts";
import type { ProtocolEvent } from "../host/events.ts";

/**
 * What the members of a cluster say to each other over their transport: what the paper's
 * cluster service (§3.1) needs — membership, the signalling of logging channels, the choice of
 * the next backup — and the outside world (client input and host output), never the log
 * itself: log entries go host to host over the logging channel.
 */

/** The VM a host belongs to: the disk it runs on (the shared one, or one own copy per host). */
export interface VmIdentity {
  diskId: string;
  diskMode: "shared" | "non-shared";
}

/** What a member says about itself, several times a second (membership with heartbeats). */
export interface MemberBeat {
  t: "beat";
  tab: string;
  /** Wall-clock ms when the member joined (the oldest standby is picked first). */
  joinedAt: number;
  /** The VM this member's host belongs to, once it knows one. */
  vm: VmIdentity | null;
  hostId: string | null;
  status: HostStatus | null;
  /** The computer this member runs on (between computers on etcd; absent in one browser). */
  computer?: string;
  /** This member's client holds the console stream up to here. */
  clientLength: number;
}

/** The client state a member sends a member that joined late or saw a gap. */
export interface ClientSync {
  t: "sync";
  to: string;
  offset: number;
  bytes: Uint8Array;
  /** Input sequence state of the client: sent so far, acknowledged, and the unacknowledged ones. */
  sentInputs: number;
  inputAcked: number;
  unacked: [number, Uint8Array][];
}

/** Controls a member may send another member's host (Freeze and Zombie write work from any tab). */
export type RemoteControl = "freeze" | "zombie-write";

export type BusMsg =
  | MemberBeat
  /** A member leaving on purpose (its tab closes): its host goes with it. */
  | { t: "bye"; tab: string }
  /** Signalling of one logging channel (`link`), addressed to one member (transport-internal). */
  | { t: "signal"; link: string; from: string; to: string; kind: "offer"; host: string; data: unknown }
  | { t: "signal"; link: string; from: string; to: string; kind: "answer" | "ice"; data: unknown }
  /** The standby's end of the logging channel is in its host: the primary may clone now. */
  | { t: "link-up"; link: string; from: string; to: string }
  /** Typed input, sent once by the member where the user typed; every member mirrors it. */
  | { t: "client-input"; tab: string; seq: number; bytes: Uint8Array }
  /** How much of the console stream a member's client holds; hosts are told the minimum. */
  | { t: "client-ack"; tab: string; offset: number }
  /** An output released by a live primary (Output Rule already applied), for every member's client. */
  | { t: "to-client"; msg: ToClientMsg }
  /** A member that joined late or saw a gap asks the others for the stream from `from`. */
  | { t: "sync-req"; tab: string; from: number }
  | ClientSync
  /** A protocol event, its time in wall-clock ms (page clocks differ per member). */
  | { t: "event"; ev: ProtocolEvent }
  | { t: "control"; to: string; control: RemoteControl; ms?: number }
  /** An Ethernet frame from one member's virtual switch to another's (the network spans the tabs). */
  | { t: "frame"; from: string; to: string; frame: Uint8Array }
  /** The timeline of another tab asks the member whose host is the live primary for its session recording. */
  | { t: "recording-req"; tab: string; id: number }
  | { t: "recording"; to: string; id: number; bytes: Uint8Array }
  /** A member that joined late asks for the feed so far; members answer with theirs (times in wall-clock ms). */
  | { t: "feed-req"; tab: string }
  | { t: "feed"; to: string; from: string; events: ProtocolEvent[] };

/** A status as other tabs get it in every beat: without the stall meter's list (up to 2,000 numbers), which only this page reads. */
export function beatStatus(s: HostStatus | null): HostStatus | null {
  if (!s?.loop) return s;
  const { loop: _, ...rest } = s;
  return rest;
}
