// The guest's description, written by scripts/build-images.sh into public/images/manifest.json.
// Both the browser host worker and the Node scripts read it, so it is the single source of truth.

export interface ImageFile {
  bytes: number;
  sha256: string;
}

export interface GuestManifest {
  version: 1;
  bios: string;
  vga_bios: string;
  bzimage: string;
  initrd: string;
  cmdline: string;
  memory_mb: number;
  disk: { file: string | null; size_bytes: number };
  prompt: string;
  ready_line: string;
  files: Record<string, ImageFile>;
  /** The guest booted once at build time (scripts/build-boot-image.ts); absent: pairs boot. */
  boot_image?: BootImageEntry;
}

/** The boot image's files (gzip'ed snapshot and disk, raw console transcript) and how it was made. */
export interface BootImageEntry {
  snapshot: string;
  disk: string;
  console: string;
  compression: "gzip";
  /** The guest's wall clock at virtual time 0. */
  epoch_ms: number;
  /** The v86 release whose state format the snapshot is in. */
  v86: string;
  frame: number;
  guest_ms: number;
  snapshot_bytes: number;
  /** sha256 of the disk as the boot left it (uncompressed). */
  disk_sha256: string;
}

/** Names the build gives the boot image's files. Not ".gz": a static host may then decode them on the way. */
export const BOOT_IMAGE_FILES = { snapshot: "booted-snapshot.bin", disk: "booted-disk.bin", console: "booted-console.txt" } as const;

export class ImageError extends Error {
  override name = "ImageError";
}

/** Checks shape, not just JSON syntax: a half-valid manifest would fail later, far from its cause. */
export function parseManifest(text: string): GuestManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ImageError(`manifest.json is not valid JSON: ${(e as Error).message}`);
  }
  const m = raw as Partial<GuestManifest>;
  if (!m || typeof m !== "object") throw new ImageError("manifest.json is not an object");
  if (m.version !== 1) throw new ImageError(`manifest.json has version ${String(m.version)}, expected 1`);
  for (const key of ["bios", "vga_bios", "bzimage", "initrd", "cmdline", "prompt", "ready_line"] as const) {
    if (typeof m[key] !== "string") throw new ImageError(`manifest.json: "${key}" must be a string`);
  }
  if (typeof m.memory_mb !== "number" || m.memory_mb < 8) throw new ImageError("manifest.json: memory_mb must be a number ≥ 8");
  if (!m.disk || typeof m.disk.size_bytes !== "number" || m.disk.size_bytes % 512 !== 0) {
    throw new ImageError("manifest.json: disk.size_bytes must be a multiple of 512");
  }
  if (!m.files || typeof m.files !== "object") throw new ImageError('manifest.json: "files" is missing');
  for (const name of bootFiles(m as GuestManifest)) {
    const f = m.files[name];
    if (!f || typeof f.sha256 !== "string" || typeof f.bytes !== "number") {
      throw new ImageError(`manifest.json: no size/sha256 listed for ${name}`);
    }
  }
  if (m.boot_image !== undefined) checkBootImage(m as GuestManifest);
  return m as GuestManifest;
}

function checkBootImage(m: GuestManifest): void {
  const b = m.boot_image!;
  if (!b || typeof b !== "object") throw new ImageError('manifest.json: "boot_image" must be an object');
  if (b.compression !== "gzip") throw new ImageError(`manifest.json: boot_image.compression ${String(b.compression)} is not "gzip"`);
  for (const key of ["epoch_ms", "frame", "guest_ms", "snapshot_bytes"] as const) {
    if (typeof b[key] !== "number") throw new ImageError(`manifest.json: boot_image.${key} must be a number`);
  }
  for (const name of bootImageFiles(m)) {
    const f = m.files[name];
    if (!f || typeof f.sha256 !== "string" || typeof f.bytes !== "number") throw new ImageError(`manifest.json: no size/sha256 listed for ${name}`);
  }
}

/** The boot image's files, in the order they are loaded (none without a boot image). */
export function bootImageFiles(m: GuestManifest): string[] {
  const b = m.boot_image;
  return b ? [b.snapshot, b.disk, b.console] : [];
}

/** Every file the guest needs, in the order they are loaded. */
export function bootFiles(m: GuestManifest): string[] {
  const names = [m.bios, m.vga_bios, m.bzimage, m.initrd];
  if (m.disk.file) names.push(m.disk.file);
  return names;
}

/** What a recording names as its guest: a replay must load exactly these images. */
export function guestIdentity(m: GuestManifest): { files: Record<string, string>; cmdline: string; memoryMb: number } {
  const files: Record<string, string> = {};
  for (const name of [m.bios, m.vga_bios, m.bzimage, m.initrd]) files[name] = m.files[name]!.sha256;
  return { files, cmdline: m.cmdline, memoryMb: m.memory_mb };
}
