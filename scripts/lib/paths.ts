// Where the scripts find the project, whatever directory they are started from.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The workload replay-check and the Node benchmarks run unless given --workload. */
export const DEFAULT_WORKLOAD = path.join(ROOT, "tests/workloads/default.txt");
