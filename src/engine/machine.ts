// One v86 instance, wired for determinism. The engine (engine.ts) owns the policy; this file
// owns the v86 plumbing:
//   - instantiates v86's wasm itself (V86 `wasm_fn`), wrapping three imports:
//       microtick        -> the engine's virtual clock,
//       get_rand_int     -> the engine (RDRAND: recorded or replayed),
//       codegen_finalize -> synchronous JIT compile; the install (table.set +
//                           codegen_finalize_finished) is queued for the next frame boundary;
//   - never starts v86's scheduler (autostart: false); the engine calls `main_loop` itself;
//   - gives the IDE controller a disk adapter (v86's buffer interface: get/set with callbacks)
//     whose requests go to the engine;
//   - save/restore with fix-ups for what v86's restore loses.
// Nothing here uses DOM or Node APIs.

import { frozenClock, installTimeShim, setFallbackClock, withClock, type TimeSource } from "./clock.ts";
import { hashWords } from "./hash.ts";

/** Guest boot files and shape. Buffers are only read, never transferred. */
export interface GuestImages {
  bios: ArrayBuffer;
  vgaBios: ArrayBuffer;
  bzImage: ArrayBuffer;
  initrd: ArrayBuffer;
  cmdline: string;
  memoryMb: number;
  /** Size of the data disk in bytes (attached as IDE master), 0 for none. */
  diskSize: number;
}

export interface MachineHooks {
  rdrand(): number;
  serialOut(byte: number): void;
  diskRead(start: number, length: number, done: (data: Uint8Array) => void): void;
  diskWrite(start: number, data: Uint8Array, done: () => void): void;
}

interface PendingInstall {
  index: number;
  start: number;
  flags: number;
  fn: unknown;
}

/** State v86's save_state misses or its restore mangles, carried next to it in a snapshot. */
export interface MachineExtra {
  /** wasm memory [CPU_REGION_START, CPU_REGION_END) at save time (registers, flags, FPU...). */
  cpu: Uint8Array;
  ps2: { aux: boolean; ready: boolean; kbd: number[]; mouse: number[] } | null;
  uartInput: number[] | null;
}

// v86 keeps CPU state at fixed wasm addresses (src/rust/cpu/global_pointers.rs).
export const CPU_REGION_START = 64;
export const CPU_REGION_END = 1232;
const INSTRUCTION_COUNTER = 664;
const IN_HLT = 616;
/** Offsets excluded from CPU hashing/copying: instruction counter and svga dirty bounds. */
const CPU_VOLATILE: ReadonlyArray<[number, number]> = [
  [INSTRUCTION_COUNTER, INSTRUCTION_COUNTER + 4],
  [716, 724],
];
const WASM_TABLE_OFFSET = 1024;

type Any = any;

let v86Ctor: Promise<Any> | null = null;

/** Imports libv86 after installing the time shim (it binds performance.now at evaluation). */
export function loadV86(): Promise<Any> {
  if (!v86Ctor) {
    installTimeShim();
    v86Ctor = import("v86").then((m: Any) => m.V86 ?? m.default);
  }
  return v86Ctor;
}

let creationChain: Promise<unknown> = Promise.resolve();

/** Seeded PRNG used as Math.random while v86 constructs (ne2k picks its MAC with it). */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
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

export class Machine {
  readonly emulator: Any;
  readonly cpu: Any;
  readonly exports: Any;
  readonly memory: WebAssembly.Memory;
  private readonly table: WebAssembly.Table;
  private jitImports: Record<string, unknown> | null = null;
  private pending: PendingInstall[] = [];
  private u32: Uint32Array;
  private u8: Uint8Array;
  compiles = 0;
  destroyed = false;

  private constructor(emulator: Any, exports: Any, table: WebAssembly.Table, private readonly hooks: { current: MachineHooks }) {
    this.emulator = emulator;
    this.exports = exports;
    this.cpu = emulator.v86.cpu;
    this.memory = exports.memory as WebAssembly.Memory;
    this.table = table;
    this.u32 = new Uint32Array(this.memory.buffer);
    this.u8 = new Uint8Array(this.memory.buffer);
  }

  /**
   * Builds a machine. Construction is serialised process-wide: during it, v86 code that runs
   * outside the engine (its async init) sees a frozen virtual clock at `clockMs` and a seeded
   * Math.random, so that two constructions with the same inputs produce the same machine.
   */
  static create(
    wasm: WebAssembly.Module,
    images: GuestImages,
    opts: { jit: boolean; clockMs: number; epochMs: number },
    hooks: { current: MachineHooks },
  ): Promise<Machine> {
    const run = async (): Promise<Machine> => {
      const V86 = await loadV86();
      const clock = frozenClock(opts.clockMs, opts.epochMs);
      const unsetClock = setFallbackClock(clock);
      const realRandom = Math.random;
      Math.random = seededRandom(0x10c5);
      try {
        return await Machine.construct(V86, wasm, images, opts, hooks);
      } finally {
        Math.random = realRandom;
        unsetClock();
      }
    };
    const p = creationChain.then(run, run);
    creationChain = p.catch(() => undefined);
    return p;
  }

  private static construct(
    V86: Any,
    wasm: WebAssembly.Module,
    images: GuestImages,
    opts: { jit: boolean },
    hooks: { current: MachineHooks },
  ): Promise<Machine> {
    return new Promise<Machine>((resolve, reject) => {
      // Set on "emulator-loaded", before any guest code runs (and so before any JIT compile).
      let machine: Machine | null = null;
      let exportsRef: Any = null;
      let tableRef: WebAssembly.Table | null = null;
      const wasm_fn = async (env: { env: Record<string, Any> }) => {
        const e = { ...env.env };
        tableRef = e.__indirect_function_table as WebAssembly.Table;
        // microtick: v86's own binding of performance.now is already shimmed; make the wasm
        // import go through the same shim so both agree.
        e.microtick = () => performance.now();
        e.get_rand_int = () => hooks.current.rdrand();
        e.codegen_finalize = (index: number, start: number, flags: number, ptr: number, len: number) => {
          machine!.compile(index, start, flags, ptr, len);
        };
        const instance = new WebAssembly.Instance(wasm, { env: e });
        exportsRef = instance.exports;
        return instance.exports;
      };
      const disk = images.diskSize > 0 ? new DiskAdapter(images.diskSize, hooks) : undefined;
      let emulator: Any;
      try {
        emulator = new V86({
          wasm_fn,
          bios: { buffer: images.bios },
          vga_bios: { buffer: images.vgaBios },
          bzimage: { buffer: images.bzImage },
          initrd: { buffer: images.initrd },
          cmdline: images.cmdline,
          memory_size: images.memoryMb * 1024 * 1024,
          vga_memory_size: 2 * 1024 * 1024,
          hda: disk,
          autostart: false,
          disable_keyboard: true,
          disable_mouse: true,
          disable_speaker: true,
          disable_jit: !opts.jit,
          serial_console: { type: "none" },
          screen: {},
        });
      } catch (err) {
        reject(err);
        return;
      }
      emulator.add_listener("emulator-loaded", () => {
        try {
          machine = new Machine(emulator, exportsRef, tableRef!, hooks);
          machine.jitImports = machine.buildJitImports();
          emulator.add_listener("serial0-output-byte", (b: number) => hooks.current.serialOut(b));
          resolve(machine);
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  private buildJitImports(): Record<string, unknown> {
    const imports: Record<string, unknown> = Object.create(null);
    imports.m = this.memory;
    for (const name of Object.keys(this.exports)) {
      if (name.startsWith("_") || name.startsWith("zstd") || name.endsWith("_js")) continue;
      imports[name] = this.exports[name];
    }
    return imports;
  }

  private compile(index: number, start: number, flags: number, ptr: number, len: number): void {
    const code = new Uint8Array(this.memory.buffer, ptr >>> 0, len >>> 0);
    const module = new WebAssembly.Module(code);
    const instance = new WebAssembly.Instance(module, { e: this.jitImports! as WebAssembly.ModuleImports });
    this.pending.push({ index, start, flags, fn: instance.exports.f });
    this.compiles++;
  }

  /** Installs JIT code compiled during the last frame; returns the table indices, in order. */
  installPendingJit(): number[] {
    if (this.pending.length === 0) return [];
    const done: number[] = [];
    const list = this.pending;
    this.pending = [];
    for (const p of list) {
      this.table.set(p.index + WASM_TABLE_OFFSET, p.fn as Any);
      this.exports.codegen_finalize_finished(p.index, p.start, p.flags);
      done.push(p.index);
    }
    return done;
  }

  get pendingJitCount(): number {
    return this.pending.length;
  }

  /** Drops compiled-but-not-installed code (clone: the fresh instance's JIT starts cold). */
  dropPendingJit(): void {
    this.pending = [];
  }

  private refreshViews(): void {
    // memory.grow() detaches the old ArrayBuffer, which zeroes the views' length: cheaper to
    // test than the memory.buffer getter (this runs on every virtual clock read).
    if (this.u32.length === 0) {
      this.u32 = new Uint32Array(this.memory.buffer);
      this.u8 = new Uint8Array(this.memory.buffer);
    }
  }

  /** The wasm's 32-bit instruction counter. */
  counter(): number {
    this.refreshViews();
    return this.u32[INSTRUCTION_COUNTER >>> 2];
  }

  inHlt(): boolean {
    this.refreshViews();
    return this.u8[IN_HLT] !== 0;
  }

  /** Runs one frame of v86's main loop; returns ms until the next timer when halted, else 0. */
  mainLoop(clock: TimeSource): number {
    return withClock(clock, () => this.exports.main_loop() as number);
  }

  serialInput(bytes: Uint8Array, clock: TimeSource): void {
    withClock(clock, () => this.emulator.serial_send_bytes(0, bytes));
  }

  /** Runs fn (a device callback into v86) under the engine's clock. */
  call<T>(clock: TimeSource, fn: () => T): T {
    return withClock(clock, fn);
  }

  private mem8(): Uint8Array {
    return this.cpu.mem8 as Uint8Array;
  }

  /** Guest RAM (v86's mem8), a view into wasm memory: read it only at a frame boundary. */
  ramView(): Uint8Array {
    return this.mem8();
  }

  get ramBytes(): number {
    return this.mem8().length;
  }

  cpuHash(): number {
    this.refreshViews();
    const region = this.u8.slice(CPU_REGION_START, CPU_REGION_END);
    for (const [a, b] of CPU_VOLATILE) region.fill(0, a - CPU_REGION_START, b - CPU_REGION_START);
    return hashWords(new Int32Array(region.buffer));
  }

  /** Hash of RAM [offset, offset + length) (4-byte aligned). */
  ramHash(offset = 0, length = this.ramBytes): number {
    const m = this.mem8();
    const end = Math.min(m.length, offset + length);
    if (offset >= end) return 0;
    return hashWords(new Int32Array(m.buffer, m.byteOffset + offset, (end - offset) >>> 2));
  }

  /** Test hook: XORs one RAM byte (invalidating JIT code for that page, as a guest write would). */
  pokeRam(offset: number, xor: number): void {
    const m = this.mem8();
    m[offset] ^= xor;
    this.cpu.jit_dirty_cache?.(offset, offset + 1);
  }

  /** v86's save_state plus what it misses. Call at a frame boundary only. */
  save(clock: TimeSource): { state: ArrayBuffer; extra: MachineExtra } {
    this.refreshViews();
    const extra: MachineExtra = {
      cpu: this.u8.slice(CPU_REGION_START, CPU_REGION_END),
      ps2: null,
      uartInput: null,
    };
    const ps2 = this.cpu.devices?.ps2;
    if (ps2) {
      extra.ps2 = {
        aux: !!ps2.next_byte_is_aux,
        ready: !!ps2.next_byte_is_ready,
        kbd: drainQueue(ps2.kbd_buffer),
        mouse: drainQueue(ps2.mouse_buffer),
      };
    }
    const uart = this.cpu.devices?.uart0;
    if (uart) extra.uartInput = drainQueue(uart.input);
    const state = withClock(clock, () => this.emulator.v86.save_state() as ArrayBuffer);
    return { state, extra };
  }

  /**
   * Restores a snapshot into this (fresh) machine and applies the fix-ups. Returns the CPU-region
   * offsets that v86's restore got wrong (they were repaired), for diagnostics.
   */
  restore(state: ArrayBuffer, extra: MachineExtra, clock: TimeSource): number[] {
    const views = {
      last_result: this.cpu.last_result,
      fpu_status_word: this.cpu.fpu_status_word,
      mxcsr: this.cpu.mxcsr,
    };
    withClock(clock, () => this.emulator.v86.restore_state(state));
    // v86 assigns state[86..88] to the JS properties instead of copying into wasm memory.
    this.cpu.last_result = views.last_result;
    this.cpu.fpu_status_word = views.fpu_status_word;
    this.cpu.mxcsr = views.mxcsr;
    this.refreshViews();
    const repaired: number[] = [];
    const skip = (o: number) => CPU_VOLATILE.some(([a, b]) => o >= a && o < b);
    for (let o = CPU_REGION_START; o < CPU_REGION_END; o++) {
      if (skip(o)) continue;
      const want = extra.cpu[o - CPU_REGION_START];
      if (this.u8[o] !== want) {
        this.u8[o] = want;
        repaired.push(o);
      }
    }
    const ps2 = this.cpu.devices?.ps2;
    if (ps2 && extra.ps2) {
      refill(ps2.kbd_buffer, extra.ps2.kbd);
      refill(ps2.mouse_buffer, extra.ps2.mouse);
      ps2.next_byte_is_aux = extra.ps2.aux;
      ps2.next_byte_is_ready = extra.ps2.ready;
    }
    const uart = this.cpu.devices?.uart0;
    if (uart && extra.uartInput) refill(uart.input, extra.uartInput);
    this.pending = [];
    return repaired;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.emulator.destroy();
    } catch {
      // v86's destroy touches adapters we never created; nothing else to release.
    }
  }
}

/**
 * v86 buffer interface for the IDE disk; requests are forwarded to the engine's hooks. A class,
 * not an object literal: v86's save_state logs plain objects it serialises.
 */
class DiskAdapter {
  onload: undefined | ((e: unknown) => void) = undefined;
  onprogress: undefined = undefined;

  constructor(
    readonly byteLength: number,
    private readonly hooks: { current: MachineHooks },
  ) {}

  load(): void {
    this.onload?.(Object.create(null));
  }

  get(start: number, len: number, fn: (data: Uint8Array) => void): void {
    this.hooks.current.diskRead(start, len, fn);
  }

  set(start: number, data: Uint8Array, fn: () => void): void {
    // The IDE may reuse `data` (PIO writes pass a view of its sector buffer): copy now.
    this.hooks.current.diskWrite(start, data.slice(), fn);
  }

  // v86 reads sector 0 before init to guess the CHS geometry from an MBR partition table.
  // That read happens outside any frame and the backup has no disk, so both sides see zeros:
  // no partition table, v86's default geometry (Linux addresses the disk by LBA anyway).
  get_and_cache(_start: number, len: number, fn: (data: Uint8Array) => void): void {
    fn(new Uint8Array(len));
  }

  get_from_cache(_start: number, len: number): Uint8Array {
    return new Uint8Array(len);
  }

  get_buffer(fn: (b: ArrayBuffer | undefined) => void): void {
    fn(undefined);
  }

  // The disk's contents live outside the machine (shared disk): nothing goes into snapshots.
  get_state(): unknown[] {
    return [];
  }

  set_state(_state: unknown): void {}
}
