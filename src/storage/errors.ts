/** The storage could not be reached; the paper's rule is to wait and retry, never to guess. */
export class StorageUnavailableError extends Error {
  override name = "StorageUnavailableError";
}

/** A write from a primary whose epoch is no longer current: a zombie, fenced off. */
export class StaleEpochError extends Error {
  override name = "StaleEpochError";
  constructor(
    readonly writerEpoch: number,
    readonly currentEpoch: number,
  ) {
    super(`write fenced: writer epoch ${writerEpoch}, current epoch ${currentEpoch}`);
  }
}
