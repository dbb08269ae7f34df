import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadGuestImages } from "../../../src/host/images.ts";
import { parseManifest } from "../../../src/engine/manifest.ts";

function fakeImages() {
  const blobs: Record<string, Uint8Array> = {
    "bios.bin": new Uint8Array([1, 2, 3]),
    "vgabios.bin": new Uint8Array([4, 5]),
    bzImage: new Uint8Array(70_000).fill(7),
    "initrd.img": new Uint8Array([9]),
  };
  const files = Object.fromEntries(
    Object.entries(blobs).map(([n, b]) => [n, { bytes: b.length, sha256: createHash("sha256").update(b).digest("hex") }]),
  );
  const manifest = {
    version: 1, bios: "bios.bin", vga_bios: "vgabios.bin", bzimage: "bzImage", initrd: "initrd.img",
    cmdline: "console=ttyS0", memory_mb: 32, disk: { file: null, size_bytes: 16 << 20 },
    prompt: "lockstep# ", ready_line: "LOCKSTEP READY", files,
  };
  const fetchFn = async (url: string) => {
    const name = url.split("/").pop()!;
    if (name === "manifest.json") return new Response(JSON.stringify(manifest));
    const b = blobs[name];
    return b ? new Response(b.slice()) : new Response("missing", { status: 404 });
  };
  return { blobs, manifest, fetchFn };
}

describe("loadGuestImages", () => {
  it("loads every boot file with progress", async () => {
    const { fetchFn } = fakeImages();
    const seen: string[] = [];
    const images = await loadGuestImages("/images", (p) => seen.push(`${p.file}:${p.loaded}/${p.total}`), fetchFn);
    expect([...images.files.keys()]).toEqual(["bios.bin", "vgabios.bin", "bzImage", "initrd.img"]);
    expect(new Uint8Array(images.files.get("bzImage")!)[69_999]).toBe(7);
    expect(seen).toContain("bzImage:70000/70000");
  });

  it("names the corrupt file", async () => {
    const { blobs, fetchFn } = fakeImages();
    blobs["bzImage"]![5] = 0;
    await expect(loadGuestImages("/images/", () => {}, fetchFn)).rejects.toThrow(/bzImage is corrupt/);
  });

  it("names a missing file and a truncated one", async () => {
    const { blobs, fetchFn } = fakeImages();
    delete blobs["initrd.img"];
    await expect(loadGuestImages("/images/", () => {}, fetchFn)).rejects.toThrow(/initrd.img: HTTP 404/);
    const t = fakeImages();
    t.blobs["bzImage"] = t.blobs["bzImage"]!.subarray(0, 100);
    await expect(loadGuestImages("/images/", () => {}, t.fetchFn)).rejects.toThrow(/bzImage is truncated/);
  });
});

describe("parseManifest", () => {
  it("rejects malformed manifests with the reason", () => {
    expect(() => parseManifest("{")).toThrow(/not valid JSON/);
    expect(() => parseManifest('{"version":2}')).toThrow(/version 2/);
    const { manifest } = fakeImages();
    expect(() => parseManifest(JSON.stringify({ ...manifest, files: {} }))).toThrow(/no size\/sha256 listed for bios.bin/);
    expect(() => parseManifest(JSON.stringify({ ...manifest, disk: { file: null, size_bytes: 1000 } }))).toThrow(/multiple of 512/);
    expect(parseManifest(JSON.stringify(manifest)).memory_mb).toBe(32);
  });
});
