// Node-only helpers for scripts and tests (NOT imported by the engine): load the guest images
// and the v86 wasm from disk.

import { readFileSync, existsSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";
import path from "node:path";
import { parseManifest, type GuestManifest } from "../manifest.ts";
import type { GuestImages } from "../machine.ts";

export interface LoadedGuest {
  dir: string;
  manifest: GuestManifest;
  images: GuestImages;
  wasm: WebAssembly.Module;
}

/** Directory with manifest.json: $LOCKSTEP_IMAGES, else public/images of the repo. */
export function imagesDir(): string {
  if (process.env.LOCKSTEP_IMAGES) return path.resolve(process.env.LOCKSTEP_IMAGES);
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../public/images");
}

function readAb(file: string): ArrayBuffer {
  const b = readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

let wasmModule: WebAssembly.Module | null = null;

export function loadWasm(): WebAssembly.Module {
  if (!wasmModule) {
    const req = createRequire(import.meta.url);
    const main = req.resolve("v86");
    const file = path.join(path.dirname(main), "v86.wasm");
    wasmModule = new WebAssembly.Module(readFileSync(file));
  }
  return wasmModule;
}

export function loadGuest(dir = imagesDir()): LoadedGuest {
  const mf = path.join(dir, "manifest.json");
  if (!existsSync(mf)) throw new Error(`no guest images: ${mf} not found (build them, or set LOCKSTEP_IMAGES)`);
  const manifest = parseManifest(readFileSync(mf, "utf8"));
  if (manifest.disk.file) {
    // The base disk image is used by the caller to seed its BlockDevice.
  }
  const images: GuestImages = {
    bios: readAb(path.join(dir, manifest.bios)),
    vgaBios: readAb(path.join(dir, manifest.vga_bios)),
    bzImage: readAb(path.join(dir, manifest.bzimage)),
    initrd: readAb(path.join(dir, manifest.initrd)),
    cmdline: manifest.cmdline,
    memoryMb: manifest.memory_mb,
    diskSize: manifest.disk.size_bytes,
  };
  return { dir, manifest, images, wasm: loadWasm() };
}

/** The initial disk contents: the manifest's base image, or zeros. */
export function initialDisk(g: LoadedGuest): Uint8Array {
  if (g.manifest.disk.file) {
    const b = new Uint8Array(readFileSync(path.join(g.dir, g.manifest.disk.file)));
    if (b.length > g.manifest.disk.size_bytes) throw new Error("disk image larger than disk.size_bytes");
    const out = new Uint8Array(g.manifest.disk.size_bytes);
    out.set(b);
    return out;
  }
  return new Uint8Array(g.manifest.disk.size_bytes);
}

/** The boot image as it was built (snapshot and disk uncompressed), or null when the images have none. */
export function loadBootImage(g: LoadedGuest): { snapshot: Uint8Array; disk: Uint8Array; console: Uint8Array; sha256: string } | null {
  const b = g.manifest.boot_image;
  if (!b) return null;
  const read = (name: string) => new Uint8Array(readFileSync(path.join(g.dir, name)));
  return {
    snapshot: new Uint8Array(gunzipSync(read(b.snapshot))),
    disk: new Uint8Array(gunzipSync(read(b.disk))),
    console: read(b.console),
    sha256: g.manifest.files[b.snapshot]!.sha256,
  };
}
