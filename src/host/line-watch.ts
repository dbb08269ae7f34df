/**
 * Watches a console byte stream for one whole line (`line` between line breaks) and calls `hit`
 * once when it appears. The command that prints the line also echoes it inside a longer line
 * (`echo LINE`), which must not count.
 */
export class LineWatch {
  private tail = "";
  private done = false;

  constructor(
    private readonly line: string,
    private readonly hit: () => void,
  ) {}

  produced(bytes: Uint8Array): void {
    if (this.done) return;
    // Keep only what a match could still start in: the last line break onwards.
    const text = this.tail + String.fromCharCode(...bytes);
    const lines = text.split("\n");
    for (const l of lines.slice(0, -1)) {
      if (l.replace(/\r$/, "") === this.line) {
        this.done = true;
        this.hit();
        return;
      }
    }
    this.tail = "\n" + lines[lines.length - 1]!;
  }
}
