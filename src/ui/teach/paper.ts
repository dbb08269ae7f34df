/**
 * Where each mechanism comes from in the paper: Scales, Nelson, Venkitachalam, "The Design of a
 * Practical System for Fault-Tolerant Virtual Machines" (SIGOPS OSR 44(4), 2010).
 */
export const PAPER_URL = "https://pdos.csail.mit.edu/6.824/papers/vm-ft.pdf";

export interface Mechanism {
  id: string;
  name: string;
  section: string;
  /** PDF page the section starts on (for the #page= link). */
  page: number;
  line: string;
}

export const MECHANISMS: Mechanism[] = [
  {
    id: "replay",
    name: "Deterministic replay",
    section: "2.1",
    page: 2,
    line: "The backup runs the same instructions; the primary logs every input and non-deterministic event so the backup can replay them at the same instruction.",
  },
  {
    id: "output-rule",
    name: "Output Rule",
    section: "2.2",
    page: 3,
    line: "An output may not leave the primary until the backup has acknowledged the log entry of the operation that produced it.",
  },
  {
    id: "failure",
    name: "Heartbeats & failure detection",
    section: "2.3",
    page: 4,
    line: "Each side watches the other's heartbeats and log traffic; silence longer than a timeout means the peer has failed.",
  },
  {
    id: "test-and-set",
    name: "Test-and-set on shared storage",
    section: "2.3",
    page: 4,
    line: "Before going live a host must win an atomic test-and-set on shared storage: of two hosts that lost each other, only one goes live (no split brain).",
  },
  {
    id: "go-live",
    name: "Going live",
    section: "2.3",
    page: 4,
    line: "A backup that takes over first replays every log entry it received, then stops replaying and runs as the primary.",
  },
  {
    id: "network",
    name: "Lost and duplicate packets (TCP)",
    section: "2.2",
    page: 3,
    line: "No output is guaranteed exactly once: the backup cannot know whether the primary sent its last packet. The network, TCP above all, is built to deal with lost packets and identical (duplicate) packets.",
  },
  {
    id: "vmotion",
    name: "FT VMotion (restoring redundancy)",
    section: "3.1",
    page: 5,
    line: "A new backup is started by cloning the running primary to another host, with the guest paused for well under a second.",
  },
  {
    id: "channel",
    name: "Logging channel, flow & lag control",
    section: "3.2",
    page: 5,
    line: "The primary fills a log buffer the backup drains and acknowledges; if the backup falls behind, the primary is paused or slowed down.",
  },
  {
    id: "control",
    name: "Control operations in the log",
    section: "3.3",
    page: 6,
    line: "If the primary is explicitly powered off, the backup must stop too and not go live: control operations travel as special entries on the logging channel.",
  },
  {
    id: "disk",
    name: "Disk I/O and fencing",
    section: "3.4",
    page: 6,
    line: "Disk writes are outputs too; after a failover pending I/Os are re-issued. Here writes carry the lock epoch so a deposed primary is fenced.",
  },
  {
    id: "non-shared",
    name: "Non-shared disks",
    section: "4.1",
    page: 7,
    line: "With separate disks, each VM's disk is internal state: writes need not wait for the Output Rule, but the copies must be synced when fault tolerance starts, and again after a failure.",
  },
  {
    id: "disk-reads-log",
    name: "Disk reads as log entries (default)",
    section: "4.2",
    page: 8,
    line: "A disk read is an input: by default the backup never reads its disk, the primary sends the read data to it in the log.",
  },
  {
    id: "backup-reads",
    name: "Disk reads on the backup",
    section: "4.2",
    page: 8,
    line: "Instead of sending read data on the log, the backup can read the disk itself: less bandwidth, more coordination.",
  },
  {
    id: "bandwidth",
    name: "Logging bandwidth (evaluation)",
    section: "5.1",
    page: 9,
    line: "Real applications needed 1.5–18 Mbit/s of log; an idle Linux or Windows guest 0.5–1.5 Mbit/s (timer interrupts).",
  },
  {
    id: "remus",
    name: "Shipping state (Remus) vs replay",
    section: "1, 6",
    page: 1,
    line: "Sending every changed memory page to the backup needs far more bandwidth than logging the few non-deterministic inputs; Remus checkpoints 40×/s and needs ~1 Gbit/s.",
  },
];

export const mechanism = (id: string): Mechanism => MECHANISMS.find((m) => m.id === id)!;
export const sectionHref = (m: Mechanism): string => `${PAPER_URL}#page=${m.page}`;
