// Where v86 keeps the CPU state in wasm memory, and the state its save_state misses or its
// restore_state mangles: captured next to the v86 state in every snapshot and repaired after
// every restore, so that a machine restored from a snapshot continues exactly like the one that
// made it (docs/engine-notes.md, "Clone").

// v86 keeps CPU state at fixed wasm addresses (src/rust/cpu/global_pointers.rs).
export const CPU_REGION_START = 64;
export const CPU_REGION_END = 1232;
export const INSTRUCTION_COUNTER = 664;
export const IN_HLT = 616;
/** Offsets excluded from CPU hashing/copying: instruction counter and svga dirty bounds. */
export const CPU_VOLATILE: ReadonlyArray<[number, number]> = [
  [INSTRUCTION_COUNTER, INSTRUCTION_COUNTER + 4],
  [716, 724],
];

type Any = any;

/** State v86's save_state misses or its restore mangles, carried next to it in a snapshot. */
export interface MachineExtra {
  /** wasm memory [CPU_REGION_START, CPU_REGION_END) at save time (registers, flags, FPU...). */
  cpu: Uint8Array;
  ps2: { aux: boolean; ready: boolean; kbd: number[]; mouse: number[] } | null;
  uartInput: number[] | null;
}

/** The JS views v86's restore replaces with plain values (state[86..88]). */
export interface CpuViews {
  last_result: unknown;
  fpu_status_word: unknown;
  mxcsr: unknown;
}

function drainQueue(q: Any): number[] {
  const out: number[] = [];
  if (!q || typeof q.shift !== "function") return out;
  while (q.length > 0) out.push(q.shift());
  for (const b of out) q.push(b);
  return out;
}

/** Empties a v86 queue (its ByteQueue or a plain array) and pushes `bytes` into it. */
function refill(q: Any, bytes: number[]): void {
  if (!q) return;
  if (Array.isArray(q)) q.length = 0;
  else q.clear();
  for (const b of bytes) q.push(b);
}

/** Before save_state: the CPU region, the PS/2 flags and queues, the UART input queue. */
export function captureExtra(cpu: Any, mem: Uint8Array): MachineExtra {
  const extra: MachineExtra = { cpu: mem.slice(CPU_REGION_START, CPU_REGION_END), ps2: null, uartInput: null };
  const ps2 = cpu.devices?.ps2;
  if (ps2) {
    extra.ps2 = {
      aux: !!ps2.next_byte_is_aux,
      ready: !!ps2.next_byte_is_ready,
      kbd: drainQueue(ps2.kbd_buffer),
      mouse: drainQueue(ps2.mouse_buffer),
    };
  }
  const uart = cpu.devices?.uart0;
  if (uart) extra.uartInput = drainQueue(uart.input);
  return extra;
}

/** Before restore_state: the views it is about to replace. */
export function keepCpuViews(cpu: Any): CpuViews {
  return { last_result: cpu.last_result, fpu_status_word: cpu.fpu_status_word, mxcsr: cpu.mxcsr };
}

/**
 * After restore_state: re-points the views, copies the saved CPU region back (v86 assigns
 * state[86..88] to the JS properties instead of copying them into wasm memory), refills the PS/2
 * and UART state. Returns the CPU-region offsets that were wrong (diagnostics).
 */
export function repairAfterRestore(cpu: Any, mem: Uint8Array, views: CpuViews, extra: MachineExtra): number[] {
  cpu.last_result = views.last_result;
  cpu.fpu_status_word = views.fpu_status_word;
  cpu.mxcsr = views.mxcsr;
  const repaired: number[] = [];
  const skip = (o: number) => CPU_VOLATILE.some(([a, b]) => o >= a && o < b);
  for (let o = CPU_REGION_START; o < CPU_REGION_END; o++) {
    if (skip(o)) continue;
    const want = extra.cpu[o - CPU_REGION_START];
    if (mem[o] !== want) {
      mem[o] = want;
      repaired.push(o);
    }
  }
  const ps2 = cpu.devices?.ps2;
  if (ps2 && extra.ps2) {
    refill(ps2.kbd_buffer, extra.ps2.kbd);
    refill(ps2.mouse_buffer, extra.ps2.mouse);
    ps2.next_byte_is_aux = extra.ps2.aux;
    ps2.next_byte_is_ready = extra.ps2.ready;
  }
  const uart = cpu.devices?.uart0;
  if (uart && extra.uartInput) refill(uart.input, extra.uartInput);
  return repaired;
}
