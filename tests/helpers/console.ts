// What the browser suites (Chromium's tests/e2e, Firefox's tests/firefox) read in the client's
// console stream, whatever drives the browser.

/** The guest shell waits for a command (its prompt, and the cursor query ash sends after it). */
export const PROMPT = /lockstep# (\x1b\[6n)?$/;

/**
 * Whether `expected` stands on a line after the echo of `command` in `text` (the stream since the
 * command was typed). Typed ahead into a command still running, a line is echoed twice by the
 * guest (the tty echoes it, then ash's line editor redraws it at the next prompt), and the
 * previous command's late answer must not count as this one's.
 */
export function answeredAfterEcho(text: string, command: string, expected: string): boolean {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const echo = lines.findIndex((l) => l.endsWith(command));
  return echo >= 0 && lines.slice(echo + 1).includes(expected);
}
