/**
 * Yields to the event loop without setTimeout's 4 ms clamp (browsers clamp nested timers), so a
 * frame loop can let channel messages and storage callbacks in between frames at full speed.
 */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
(channel.port1 as { unref?: () => void }).unref?.();

export function yieldNow(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}
