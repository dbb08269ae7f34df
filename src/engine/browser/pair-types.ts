import type { CheckpointInfo } from "../checkpoints.ts";
import type { SessionInfo } from "../session.ts";

export interface PairStart {
  role: "primary" | "backup";
  /** URL of the directory with manifest.json (e.g. "/images/"). */
  imagesUrl: string;
  /** Console lines the primary types once the guest shows its prompt. */
  commands: string[];
}

/** Primary -> backup, over the pair's MessagePort. */
export type PeerMsg =
  | { t: "session"; session: SessionInfo }
  | { t: "batch"; bytes: Uint8Array }
  | { t: "end"; position: { frame: number; icount: number } };

export interface PairSideResult {
  role: "primary" | "backup";
  position: { frame: number; icount: number };
  stateHash: string;
  checkpoints: CheckpointInfo[];
  console: string;
  frames: number;
  divergence: string | null;
  realMs: number;
}

export interface PairResult {
  primary: PairSideResult;
  backup: PairSideResult;
  /** Checkpoints equal in number and value, same final position and state hash, same console, no divergence. */
  identical: boolean;
}
