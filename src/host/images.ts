import type { GuestImages as MachineImages } from "../engine/machine.ts";
import { bootFiles, bootImageFiles, ImageError, parseManifest, type GuestManifest } from "../engine/manifest.ts";

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface GuestImages {
  manifest: GuestManifest;
  files: Map<string, ArrayBuffer>;
}

type Fetch = (url: string) => Promise<Response>;

async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readWithProgress(res: Response, total: number, onChunk: (loaded: number) => void): Promise<ArrayBuffer> {
  if (!res.body) return res.arrayBuffer();
  const out = new Uint8Array(total);
  const reader = res.body.getReader();
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.byteLength > total) throw new ImageError(`larger than the ${total} bytes the manifest lists`);
    out.set(value, loaded);
    loaded += value.byteLength;
    onChunk(loaded);
  }
  if (loaded !== total) throw new ImageError(`truncated: ${loaded} of ${total} bytes`);
  return out.buffer;
}

/**
 * Loads the manifest and every boot file, verifying size and sha256, so that a stale or
 * corrupt image is reported by name instead of booting into a confusing guest failure.
 */
export async function loadGuestImages(
  baseUrl: string,
  onProgress: (p: LoadProgress) => void,
  fetchFn: Fetch = (u) => fetch(u),
  opts: { bootImage?: boolean } = {},
): Promise<GuestImages> {
  const base = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
  let manifestRes: Response;
  try {
    manifestRes = await fetchFn(base + "manifest.json");
  } catch (e) {
    throw new ImageError(`cannot fetch ${base}manifest.json: ${(e as Error).message}`);
  }
  if (!manifestRes.ok) throw new ImageError(`cannot fetch ${base}manifest.json: HTTP ${manifestRes.status}`);
  const manifest = parseManifest(await manifestRes.text());

  const files = new Map<string, ArrayBuffer>();
  const wanted = [...bootFiles(manifest), ...(opts.bootImage ? bootImageFiles(manifest) : [])];
  for (const name of wanted) {
    const expected = manifest.files[name]!;
    onProgress({ file: name, loaded: 0, total: expected.bytes });
    let res: Response;
    try {
      res = await fetchFn(base + name);
    } catch (e) {
      throw new ImageError(`cannot fetch image ${name}: ${(e as Error).message}`);
    }
    if (!res.ok) throw new ImageError(`cannot fetch image ${name}: HTTP ${res.status}`);
    let data: ArrayBuffer;
    try {
      data = await readWithProgress(res, expected.bytes, (loaded) => onProgress({ file: name, loaded, total: expected.bytes }));
    } catch (e) {
      throw new ImageError(`image ${name} is ${(e as Error).message}`);
    }
    const digest = await sha256Hex(data);
    if (digest !== expected.sha256) {
      throw new ImageError(`image ${name} is corrupt: sha256 ${digest.slice(0, 12)}… but the manifest lists ${expected.sha256.slice(0, 12)}…`);
    }
    files.set(name, data);
  }
  return { manifest, files };
}

/** What the machine boots from a loaded guest: the files the manifest names, and its settings. */
export function machineImages({ manifest, files }: GuestImages): MachineImages {
  return {
    bios: files.get(manifest.bios)!,
    vgaBios: files.get(manifest.vga_bios)!,
    bzImage: files.get(manifest.bzimage)!,
    initrd: files.get(manifest.initrd)!,
    cmdline: manifest.cmdline,
    memoryMb: manifest.memory_mb,
    diskSize: manifest.disk.size_bytes,
  };
}

async function gunzip(data: ArrayBuffer, name: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new ImageError(`image ${name} does not decompress: ${(e as Error).message}`);
  }
}

/** The boot image of loaded images (loadGuestImages with bootImage), decompressed; null when the manifest has none. */
export async function bootImageOf(loaded: GuestImages): Promise<{ snapshot: Uint8Array; disk: Uint8Array; console: Uint8Array; sha256: string } | null> {
  const { manifest, files } = loaded;
  const b = manifest.boot_image;
  if (!b || !files.has(b.snapshot)) return null;
  const [image, disk] = await Promise.all([bootSnapshotOf(loaded), gunzip(files.get(b.disk)!, b.disk)]);
  if (disk.length !== manifest.disk.size_bytes) throw new ImageError(`image ${b.disk} decompresses to ${disk.length} bytes, the disk has ${manifest.disk.size_bytes}`);
  return { ...image!, disk, console: new Uint8Array(files.get(b.console)!) };
}

/**
 * Only the boot image's snapshot, and the sha256 of its file (what recordings name it by): all a
 * standby needs of it, to fill in the start of the recording its clone brings (recording.ts).
 */
export async function bootSnapshotOf({ manifest, files }: GuestImages): Promise<{ snapshot: Uint8Array; sha256: string } | null> {
  const b = manifest.boot_image;
  if (!b || !files.has(b.snapshot)) return null;
  const snapshot = await gunzip(files.get(b.snapshot)!, b.snapshot);
  if (snapshot.length !== b.snapshot_bytes) throw new ImageError(`image ${b.snapshot} decompresses to ${snapshot.length} bytes, the manifest says ${b.snapshot_bytes}`);
  return { snapshot, sha256: manifest.files[b.snapshot]!.sha256 };
}
