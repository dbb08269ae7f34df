#!/usr/bin/env bash
# Builds the Lockstep guest (SeaBIOS, Linux bzImage, busybox initramfs,
# manifest, README) into public/images/ from Debian packages only.
#
#   npm run images                      # minimal kernel built from linux-source
#   LOCKSTEP_KERNEL=debian npm run images   # Debian's stock 686 kernel instead
#
# Environment:
#   LOCKSTEP_BUILD_DIR  work directory (downloads, kernel objects); reused
#                       between runs, default ${TMPDIR:-/tmp}/lockstep-images
#   LOCKSTEP_KERNEL     "minimal" (default) or "debian"
#   LOCKSTEP_OUT        output directory (default public/images), e.g. to
#                       check reproducibility or build the 686 baseline aside
#   LOCKSTEP_INITRD_GZIP 1: gzip the initramfs (smaller, slower boot); default 0
#   JOBS                parallel make jobs (default: nproc + 1)
#
# Reproducibility: package versions are pinned below, every timestamp comes
# from SOURCE_DATE_EPOCH, the cpio is written in a fixed order with uid/gid 0
# and fixed mtimes, gzip (when used) runs with -n. Two runs with the same pins give
# byte-identical outputs (checked by comparing the sha256 in manifest.json).
set -euo pipefail

# --- Pins: change together with public/images/README.md ----------------------
SEABIOS_VERSION=1.16.2-1
BUSYBOX_VERSION=1:1.35.0-4+deb12u1+b1
LINUX_SOURCE_PKG=linux-source-6.1
LINUX_SOURCE_VERSION=6.1.192-2
# Only for LOCKSTEP_KERNEL=debian (the measured fallback/baseline).
DEBIAN_KERNEL_PKG=linux-image-6.1.0-50-686
DEBIAN_KERNEL_VERSION=6.1.176-1
# 2024-01-01T00:00:00Z: an arbitrary fixed instant, so that a rebuild does not
# depend on when it runs.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}

# v86 always loads the initrd at physical 64 MiB (its bzImage loader), so the
# guest needs more than 64 MiB + the initrd; 72 leaves room for an 8 MiB one.
# Snapshots cost only the non-zero pages (v86 packs memory), not this size.
MEMORY_MB=72
DISK_SIZE_BYTES=$((16 * 1024 * 1024))
# console=ttyS0: the only console the app reads. quiet: kernel messages cost
# emulated serial I/O. tsc=reliable: no clocksource watchdog (v86's TSC is
# the clock; the watchdog only adds timer work and, on a loaded host, marks
# the TSC unstable). libata.force=2:disable: skip v86's always-present empty
# ATAPI CD-ROM on the secondary channel.
CMDLINE_MINIMAL="console=ttyS0 quiet tsc=reliable libata.force=2:disable"
CMDLINE_DEBIAN=$CMDLINE_MINIMAL
# ------------------------------------------------------------------------------

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/images
OUT=${LOCKSTEP_OUT:-$ROOT/public/images}
WORK=${LOCKSTEP_BUILD_DIR:-${TMPDIR:-/tmp}/lockstep-images}
KERNEL_KIND=${LOCKSTEP_KERNEL:-minimal}
JOBS=${JOBS:-$(($(nproc) + 1))}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build-images: %s\n' "$*" >&2; exit 1; }

case $KERNEL_KIND in
minimal | debian) ;;
*) die "LOCKSTEP_KERNEL must be 'minimal' or 'debian', not '$KERNEL_KIND'" ;;
esac

# --- Host tools ----------------------------------------------------------------
need_pkgs=()
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2")
}
need apt-get apt
need dpkg dpkg
need node nodejs
need gzip gzip
need sha256sum coreutils
need xz xz-utils
need tar tar
need gcc gcc
need make make
if [ "$KERNEL_KIND" = minimal ]; then
	need flex flex
	need bison bison
	need bc bc
	need perl perl
	need lz4 lz4
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		die "missing host packages: ${need_pkgs[*]} (run as root or apt-get install them)"
	fi
	log "installing host packages: ${need_pkgs[*]}"
	apt-get update -qq || log "apt-get update reported errors; trying anyway"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# --- Debian packages -------------------------------------------------------------
if ! dpkg --print-foreign-architectures | grep -qx i386; then
	[ "$(id -u)" -eq 0 ] || die "i386 is not a dpkg architecture here; run: dpkg --add-architecture i386 && apt-get update"
	log "dpkg --add-architecture i386"
	dpkg --add-architecture i386
	# A partial failure (e.g. a mirror mid-sync for one index) must not stop us
	# if the pinned packages are still resolvable.
	apt-get update -qq || log "apt-get update reported errors; trying anyway"
fi

mkdir -p "$WORK/debs"
# apt-get download checks each .deb against the signed archive index.
fetch_deb() { # fetch_deb NAME[:ARCH] VERSION -> path of the .deb on stdout
	local name=$1 version=$2 file
	# apt writes an epoch "N:" in the file name as "N%3a".
	file=$(printf '%s_%s_' "${name%%:*}" "${version//:/%3a}")
	local found
	found=$(find "$WORK/debs" -maxdepth 1 -name "${file}*.deb" -print -quit)
	if [ -z "$found" ]; then
		log "apt-get download $name=$version"
		if ! (cd "$WORK/debs" && apt-get download -qq "$name=$version" 2>/dev/null); then
			[ "$(id -u)" -eq 0 ] && { apt-get update -qq || true; }
			(cd "$WORK/debs" && apt-get download -qq "$name=$version") ||
				die "cannot download $name=$version; if Debian dropped it, update the pins at the top of $0"
		fi
		found=$(find "$WORK/debs" -maxdepth 1 -name "${file}*.deb" -print -quit)
		[ -n "$found" ] || die "downloaded $name=$version but cannot find ${file}*.deb"
	fi
	printf '%s\n' "$found"
}

unpack() { # unpack DEB DIR
	rm -rf "$2"
	mkdir -p "$2"
	dpkg -x "$1" "$2"
}

SEABIOS_DEB=$(fetch_deb seabios "$SEABIOS_VERSION")
BUSYBOX_DEB=$(fetch_deb busybox-static:i386 "$BUSYBOX_VERSION")
# linux-source is needed in both modes: gen_init_cpio writes the initramfs.
LINUX_DEB=$(fetch_deb "$LINUX_SOURCE_PKG" "$LINUX_SOURCE_VERSION")
if [ "$KERNEL_KIND" = debian ]; then
	DEBIAN_KERNEL_DEB=$(fetch_deb "$DEBIAN_KERNEL_PKG:i386" "$DEBIAN_KERNEL_VERSION")
fi

unpack "$SEABIOS_DEB" "$WORK/seabios"
unpack "$BUSYBOX_DEB" "$WORK/busybox"

SRC=$WORK/linux-src/$LINUX_SOURCE_PKG
if [ ! -f "$WORK/linux-src/.unpacked-$LINUX_SOURCE_VERSION" ]; then
	log "unpacking $LINUX_SOURCE_PKG $LINUX_SOURCE_VERSION"
	unpack "$LINUX_DEB" "$WORK/linux-deb"
	rm -rf "$WORK/linux-src" "$WORK/kbuild"
	mkdir -p "$WORK/linux-src"
	tar -xf "$WORK/linux-deb/usr/src/$LINUX_SOURCE_PKG.tar.xz" -C "$WORK/linux-src"
	rm -rf "$WORK/linux-deb"
	touch "$WORK/linux-src/.unpacked-$LINUX_SOURCE_VERSION"
fi
[ -f "$SRC/Makefile" ] || die "unexpected layout in $LINUX_SOURCE_PKG: no $SRC/Makefile"

STAGE=$WORK/out
rm -rf "$STAGE"
mkdir -p "$STAGE"

# --- SeaBIOS ---------------------------------------------------------------------
cp "$WORK/seabios/usr/share/seabios/bios.bin" "$STAGE/bios.bin"
cp "$WORK/seabios/usr/share/seabios/vgabios-stdvga.bin" "$STAGE/vgabios.bin"

# --- Kernel ----------------------------------------------------------------------
export KBUILD_BUILD_TIMESTAMP
KBUILD_BUILD_TIMESTAMP=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %e %H:%M:%S UTC %Y')
export KBUILD_BUILD_USER=lockstep KBUILD_BUILD_HOST=lockstep KBUILD_BUILD_VERSION=1
if [ "$KERNEL_KIND" = minimal ]; then
	KB=$WORK/kbuild
	mkdir -p "$KB"
	log "configuring kernel: tinyconfig + scripts/images/kernel.config"
	make -s -C "$SRC" O="$KB" ARCH=i386 tinyconfig >/dev/null
	# merge_config warns about every choice the fragment overrides (HZ_100...);
	# that is the point of the fragment, so its output is kept out of the way.
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$KB" "$KB/.config" "$HERE/kernel.config" \
		>"$KB/merge_config.log" 2>&1 || { cat "$KB/merge_config.log" >&2; die "merge_config failed"; }
	make -s -C "$SRC" O="$KB" ARCH=i386 olddefconfig >/dev/null
	# Fail loudly if Kconfig silently dropped a requested option (a missing
	# dependency would otherwise just produce a kernel that cannot boot).
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) key=${line%%=*} want=${line#*=} ;;
		"# CONFIG_"*" is not set") key=${line#\# } key=${key%% *} want=n ;;
		*) continue ;;
		esac
		got=$(sed -n -e "s/^$key=//p" -e "s/^# $key is not set$/n/p" "$KB/.config")
		[ "${got:-n}" = "$want" ] || die "kernel config: $key=$want requested, Kconfig gave ${got:-n}"
	done <"$HERE/kernel.config"
	log "building bzImage (make -j$JOBS; minutes on a small machine)"
	make -s -C "$SRC" O="$KB" ARCH=i386 -j"$JOBS" bzImage
	cp "$KB/arch/x86/boot/bzImage" "$STAGE/bzImage"
	KERNEL_DESC="minimal, built from $LINUX_SOURCE_PKG $LINUX_SOURCE_VERSION (tinyconfig + scripts/images/kernel.config)"
	KERNEL_RELEASE=$(cat "$KB/include/config/kernel.release")
	CMDLINE=$CMDLINE_MINIMAL
else
	unpack "$DEBIAN_KERNEL_DEB" "$WORK/debian-kernel"
	cp "$WORK/debian-kernel/boot/vmlinuz-"*-686 "$STAGE/bzImage"
	KERNEL_DESC="Debian $DEBIAN_KERNEL_PKG $DEBIAN_KERNEL_VERSION (stock)"
	KERNEL_RELEASE=${DEBIAN_KERNEL_PKG#linux-image-}
	CMDLINE=$CMDLINE_DEBIAN
fi

# --- initramfs -------------------------------------------------------------------
# gen_init_cpio (from the kernel source) writes the archive from a text list:
# no root needed for /dev/console, entries in exactly the listed order, every
# entry owned by 0:0, inode numbers assigned sequentially.
GEN_CPIO=$WORK/gen_init_cpio
if [ ! -x "$GEN_CPIO" ] || [ "$SRC/usr/gen_init_cpio.c" -nt "$GEN_CPIO" ]; then
	gcc -O2 -o "$GEN_CPIO" "$SRC/usr/gen_init_cpio.c"
fi

RFS=$WORK/rootfs-files
rm -rf "$RFS"
mkdir -p "$RFS"
install -m 0755 "$WORK/busybox/bin/busybox" "$RFS/busybox"
install -m 0755 "$HERE/rootfs/init" "$RFS/init"
install -m 0755 "$HERE/rootfs/bin/kv" "$RFS/kv"
install -m 0644 "$HERE/rootfs/www/index.html" "$RFS/index.html"
install -m 0755 "$HERE/rootfs/www/cgi-bin/kv" "$RFS/cgi-kv"
install -m 0755 "$HERE/rootfs/www/cgi-bin/mkfile" "$RFS/cgi-mkfile"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$RFS/passwd"
printf 'root:x:0:\n' >"$RFS/group"
# Regular files carry their own mtime into the archive.
find "$RFS" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# The applet list comes from the busybox binary itself (it is a static i386
# executable, which an amd64 kernel runs).
APPLETS=$("$RFS/busybox" --list-full) ||
	die "cannot run the i386 busybox on this host (needs IA32 emulation) to list its applets"

# The stock kernel needs its disk and filesystem modules in the initramfs.
# busybox depmod (run on the host) writes the modules.dep busybox modprobe reads.
MODULES_BASE=
if [ "$KERNEL_KIND" = debian ]; then
	MODULES_BASE=$WORK/modules
	rm -rf "$MODULES_BASE"
	KMOD=$WORK/debian-kernel/lib/modules/$KERNEL_RELEASE
	"$RFS/busybox" depmod -b "$WORK/debian-kernel" "$KERNEL_RELEASE"
	WANT="ata_piix sd_mod ext4 crc32c_generic"
	mods=$(for m in $WANT; do
		line=$(grep -E "(^|/)$m\.ko:" "$KMOD/modules.dep") || die "no module $m in $DEBIAN_KERNEL_PKG"
		printf '%s\n' "$line" | tr -d ':' | tr ' ' '\n'
	done | sed '/^$/d' | LC_ALL=C sort -u)
	mkdir -p "$MODULES_BASE"
	for m in $mods; do
		mkdir -p "$MODULES_BASE/$(dirname "$m")"
		cp "$KMOD/$m" "$MODULES_BASE/$m"
	done
	# modules.dep restricted to what we ship, so modprobe never looks for more.
	for m in $mods; do
		grep -E "^$m:" "$KMOD/modules.dep"
	done >"$MODULES_BASE/modules.dep"
	printf '%s\n' $WANT >"$RFS/modules"
	find "$MODULES_BASE" "$RFS" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi

LIST=$WORK/initramfs.list
{
	for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /data /etc /root /tmp /mnt /www /www/cgi-bin; do
		mode=0755
		[ "$d" = /tmp ] && mode=1777
		[ "$d" = /root ] && mode=0700
		echo "dir $d $mode 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/null 0666 0 0 c 1 3"
	echo "file /init $RFS/init 0755 0 0"
	echo "file /bin/busybox $RFS/busybox 0755 0 0"
	echo "file /bin/kv $RFS/kv 0755 0 0"
	echo "file /etc/passwd $RFS/passwd 0644 0 0"
	echo "file /etc/group $RFS/group 0644 0 0"
	echo "file /www/index.html $RFS/index.html 0644 0 0"
	echo "file /www/cgi-bin/kv $RFS/cgi-kv 0755 0 0"
	echo "file /www/cgi-bin/mkfile $RFS/cgi-mkfile 0755 0 0"
	# The data disk's files, served as /files/ (the link dangles until /data is mounted).
	echo "slink /www/files ../data/www 0777 0 0"
	if [ -n "$MODULES_BASE" ]; then
		echo "file /etc/modules $RFS/modules 0644 0 0"
		echo "dir /lib 0755 0 0"
		echo "dir /lib/modules 0755 0 0"
		echo "dir /lib/modules/$KERNEL_RELEASE 0755 0 0"
		(cd "$MODULES_BASE" && find . -mindepth 1 | LC_ALL=C sort) | while IFS= read -r p; do
			p=${p#./}
			dst=/lib/modules/$KERNEL_RELEASE/$p
			if [ -d "$MODULES_BASE/$p" ]; then
				echo "dir $dst 0755 0 0"
			else
				echo "file $dst $MODULES_BASE/$p 0644 0 0"
			fi
		done
	fi
	printf '%s\n' "$APPLETS" | LC_ALL=C sort -u | while IFS= read -r applet; do
		[ "$applet" = bin/busybox ] && continue
		# Relative targets so the links work wherever the tree is unpacked.
		case $applet in
		bin/*) target=busybox ;;
		sbin/*) target=../bin/busybox ;;
		usr/bin/* | usr/sbin/*) target=../../bin/busybox ;;
		linuxrc) continue ;; # /init is ours
		*) die "unexpected applet path $applet" ;;
		esac
		echo "slink /$applet $target 0777 0 0"
	done
} >"$LIST"
# Uncompressed by default: inflating a gzip'ed initrd cost the guest ~50 M
# instructions (a third of the boot) for 1 MB less download.
# LOCKSTEP_INITRD_GZIP=1 trades that back (the kernel reads both).
if [ "${LOCKSTEP_INITRD_GZIP:-0}" = 1 ]; then
	INITRD_COMPRESSION=gzip
	"$GEN_CPIO" -t "$SOURCE_DATE_EPOCH" "$LIST" | gzip -n -9 >"$STAGE/initrd.img"
else
	INITRD_COMPRESSION=none
	"$GEN_CPIO" -t "$SOURCE_DATE_EPOCH" "$LIST" >"$STAGE/initrd.img"
fi

# --- Manifest and README ---------------------------------------------------------
BUSYBOX_COUNT=$(printf '%s\n' "$APPLETS" | wc -l)
rm -rf "$OUT.new"
mkdir -p "$OUT.new"
cp "$STAGE"/* "$OUT.new/"
KERNEL_CONFIG_FRAGMENT=$HERE/kernel.config \
	KERNEL_KIND="$KERNEL_KIND" KERNEL_DESC="$KERNEL_DESC" KERNEL_RELEASE="$KERNEL_RELEASE" \
	CMDLINE="$CMDLINE" MEMORY_MB="$MEMORY_MB" DISK_SIZE_BYTES="$DISK_SIZE_BYTES" \
	SEABIOS_VERSION="$SEABIOS_VERSION" BUSYBOX_VERSION="$BUSYBOX_VERSION" \
	LINUX_SOURCE_PKG="$LINUX_SOURCE_PKG" LINUX_SOURCE_VERSION="$LINUX_SOURCE_VERSION" \
	DEBIAN_KERNEL_PKG="$DEBIAN_KERNEL_PKG" DEBIAN_KERNEL_VERSION="$DEBIAN_KERNEL_VERSION" \
	BUSYBOX_COUNT="$BUSYBOX_COUNT" INITRD_COMPRESSION="$INITRD_COMPRESSION" \
	node "$HERE/write-manifest.mjs" "$OUT.new" "$HERE/README.template.md"

# Swap in the new set only once everything is built, keeping files in
# public/images that this script does not own.
mkdir -p "$OUT"
for f in "$OUT.new"/*; do
	mv -f "$f" "$OUT/"
done
rmdir "$OUT.new"
log "done: $(du -cb "$OUT"/bios.bin "$OUT"/vgabios.bin "$OUT"/bzImage "$OUT"/initrd.img | tail -1 | cut -f1) bytes to download"
(cd "$OUT" && sha256sum bios.bin vgabios.bin bzImage initrd.img)

# --- Boot image -------------------------------------------------------------------
# The guest booted once from the files above and saved at its prompt (needs `npm ci`: v86).
log "boot image"
(cd "$ROOT" && LOCKSTEP_IMAGES="$OUT" npx tsx scripts/build-boot-image.ts)
