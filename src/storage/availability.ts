import { StorageUnavailableError } from "./errors.ts";

/**
 * IndexedDB never goes away on its own, so "the storage network is down" is simulated here,
 * at the one edge every storage call passes through.
 */
export class Availability {
  private down = false;

  set(available: boolean): void {
    this.down = !available;
  }

  get available(): boolean {
    return !this.down;
  }

  check(what: string): void {
    if (this.down) throw new StorageUnavailableError(`shared storage unreachable (${what})`);
  }
}
