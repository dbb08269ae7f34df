// Writes manifest.json and README.md into the output directory of
// scripts/build-images.sh. Everything it writes is derived from the built files
// and the pins passed in the environment, so a rebuild reproduces both exactly.
//
//   node write-manifest.mjs OUT_DIR README_TEMPLATE

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const [outDir, templatePath] = process.argv.slice(2);
if (!outDir || !templatePath) {
    console.error("usage: node write-manifest.mjs OUT_DIR README_TEMPLATE");
    process.exit(2);
}

function env(name) {
    const v = process.env[name];
    if (v === undefined || v === "") throw new Error(`write-manifest: ${name} is not set`);
    return v;
}

const shipped = ["bios.bin", "vgabios.bin", "bzImage", "initrd.img"];
const files = {};
for (const name of shipped) {
    const data = readFileSync(path.join(outDir, name));
    files[name] = { bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}

const kernelKind = env("KERNEL_KIND");
const packages = {
    seabios: { version: env("SEABIOS_VERSION"), arch: "all", license: "LGPL-3.0-or-later", provides: ["bios.bin", "vgabios.bin"] },
    "busybox-static": { version: env("BUSYBOX_VERSION"), arch: "i386", license: "GPL-2.0-only", provides: ["initrd.img"] },
    [env("LINUX_SOURCE_PKG")]: {
        version: env("LINUX_SOURCE_VERSION"),
        arch: "all",
        license: "GPL-2.0-only",
        provides: kernelKind === "minimal" ? ["bzImage", "initrd.img (gen_init_cpio)"] : ["initrd.img (gen_init_cpio)"],
    },
};
if (kernelKind === "debian") {
    packages[env("DEBIAN_KERNEL_PKG")] = {
        version: env("DEBIAN_KERNEL_VERSION"), arch: "i386", license: "GPL-2.0-only", provides: ["bzImage"],
    };
}

const manifest = {
    version: 1,
    bios: "bios.bin",
    vga_bios: "vgabios.bin",
    bzimage: "bzImage",
    initrd: "initrd.img",
    initrd_compression: env("INITRD_COMPRESSION"),
    cmdline: env("CMDLINE"),
    memory_mb: Number(env("MEMORY_MB")),
    disk: {
        // Not shipped: the host creates a zero-filled disk of size_bytes and
        // the guest formats it (ext2) at first boot when it has no superblock.
        file: null,
        size_bytes: Number(env("DISK_SIZE_BYTES")),
        filesystem: "ext2",
        device: "/dev/sda",
        mount: "/data",
        format_on_first_boot: true,
    },
    prompt: "lockstep# ",
    ready_line: "LOCKSTEP READY",
    files,
    total_download_bytes: Object.values(files).reduce((n, f) => n + f.bytes, 0),
    kernel: { kind: kernelKind, release: env("KERNEL_RELEASE"), description: env("KERNEL_DESC") },
    packages,
    source_date_epoch: Number(env("SOURCE_DATE_EPOCH")),
};
writeFileSync(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

// README: fill {{NAME}} placeholders in the template.
const fileRows = shipped
    .map((n) => `| \`${n}\` | ${files[n].bytes} | \`${files[n].sha256}\` |`)
    .join("\n");
const pkgRows = Object.entries(packages)
    .map(([name, p]) => `| \`${name}\` | \`${p.version}\` | ${p.arch} | ${p.license} | ${p.provides.join(", ")} |`)
    .join("\n");
const values = {
    FILES_TABLE: `| file | bytes | sha256 |\n|---|---|---|\n${fileRows}`,
    PACKAGES_TABLE: `| Debian package | version | arch | licence | used for |\n|---|---|---|---|---|\n${pkgRows}`,
    TOTAL_BYTES: String(manifest.total_download_bytes),
    TOTAL_MIB: (manifest.total_download_bytes / 1048576).toFixed(2),
    KERNEL_DESC: manifest.kernel.description,
    KERNEL_RELEASE: manifest.kernel.release,
    CMDLINE: manifest.cmdline,
    MEMORY_MB: String(manifest.memory_mb),
    DISK_SIZE_BYTES: String(manifest.disk.size_bytes),
    BUSYBOX_COUNT: env("BUSYBOX_COUNT"),
    INITRD_FORMAT: env("INITRD_COMPRESSION") === "gzip" ? "gzip'ed" : "uncompressed",
    SOURCE_DATE_EPOCH: String(manifest.source_date_epoch),
    KERNEL_CONFIG: readFileSync(env("KERNEL_CONFIG_FRAGMENT"), "utf8").trimEnd(),
};
const readme = readFileSync(templatePath, "utf8").replace(/\{\{([A-Z_]+)\}\}/g, (m, key) => {
    if (!(key in values)) throw new Error(`README template: unknown placeholder ${m}`);
    return values[key];
});
writeFileSync(path.join(outDir, "README.md"), readme);
