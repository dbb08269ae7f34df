/**
 * Watches a console byte stream for the guest's "ready" line followed by its shell prompt.
 * Boot is complete only when both appear in that order: the prompt string alone could show
 * up in kernel messages or a half-initialised shell.
 */
export class PromptWatch {
  private tail = "";
  private sawReady = false;
  private done = false;

  constructor(
    private readonly readyLine: string,
    private readonly prompt: string,
  ) {}

  /** Feeds bytes; returns true exactly once, on the chunk that completes the boot. */
  feed(bytes: Uint8Array): boolean {
    if (this.done) return false;
    for (const b of bytes) {
      this.tail += String.fromCharCode(b);
      if (!this.sawReady && this.tail.endsWith(this.readyLine)) {
        this.sawReady = true;
        this.tail = "";
      } else if (this.sawReady && this.tail.endsWith(this.prompt)) {
        this.done = true;
        return true;
      }
      const keep = Math.max(this.readyLine.length, this.prompt.length);
      if (this.tail.length > 4 * keep) this.tail = this.tail.slice(-keep);
    }
    return false;
  }

  get ready(): boolean {
    return this.done;
  }
}
