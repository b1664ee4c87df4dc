#!/usr/bin/env bash
# Builds the dma-harness x86_64 test kernel once, into a cache, for the
# "user's own kernel" path:
#
#   harness run --arch x86_64 --kernel TREE/arch/x86/boot/bzImage --kbuild TREE
#
# Usage: Tests/Integration/build-test-kernel.sh CACHE_DIR
#
# Source: Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz).
# Config: harness/kernels/x86_64-6.1.config, a fragment on top of allnoconfig.
# Needs:  apt-get install -y --no-install-recommends linux-source-6.1 \
#             flex bison libelf-dev libssl-dev bc gcc make xz-utils
#
# The tree is CACHE_DIR/linux-source-6.1-<digest>, the digest covering the
# fragment's values (not its comments), the source tarball (path, size and
# date) and this script's recipe version, so any change to them builds a new
# tree. It is built under a
# temporary name and renamed into place only when complete, so a half-made
# tree is never used; a second call with the tree present only prints.
#
# Output: the last two lines of stdout are
#   bzImage=/abs/path/arch/x86/boot/bzImage
#   kbuild=/abs/path
# (progress and make's output go to stderr).
#
# Environment: LINUX_SOURCE_TARBALL (default /usr/src/linux-source-6.1.tar.xz),
#              JOBS (default 2; make runs under nice -n 10).
set -euo pipefail

# Bump when the build steps below change what ends up in the tree.
readonly RECIPE=1

if [ $# -ne 1 ]; then
	echo "usage: $0 CACHE_DIR" >&2
	exit 2
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/../.." && pwd)
fragment="$repo/harness/kernels/x86_64-6.1.config"
tarball=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
jobs=${JOBS:-2}

log() { echo "build-test-kernel: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ -f "$fragment" ] || die "config fragment missing: $fragment"
[ -f "$tarball" ] || die "$tarball missing: apt-get install linux-source-6.1"

mkdir -p "$1"
cache=$(cd "$1" && pwd)

# Cheap digest (no pass over the 130 MB tarball, so the cached path is fast).
# Of the fragment only its values count: comments can change without a rebuild.
digest=$( {
	echo "recipe=$RECIPE"
	stat -c 'tarball=%n %s %Y' "$tarball"
	grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$fragment"
} | sha256sum | cut -c1-16)
tree="$cache/linux-source-6.1-$digest"
stamp="$tree/.dma-harness-built"

report() {
	echo "bzImage=$tree/arch/x86/boot/bzImage"
	echo "kbuild=$tree"
}

# Fast path: a complete tree exists (the stamp is written before the rename).
if [ -f "$stamp" ]; then
	report
	exit 0
fi

# From here on, one builder per tree: a concurrent caller waits, then finds
# the tree built.
exec 9>"$cache/.linux-source-6.1-$digest.lock"
flock 9
if [ -f "$stamp" ]; then
	report
	exit 0
fi

for tool in make gcc flex bison bc xz nice; do
	command -v "$tool" >/dev/null || die "$tool not found (see the Needs: line at the top of $0)"
done
[ -f /usr/include/libelf.h ] || die "libelf.h missing: apt-get install libelf-dev (objtool needs it)"
[ -f /usr/include/openssl/ssl.h ] || die "openssl headers missing: apt-get install libssl-dev"

# Leftovers of an interrupted build of this tree, then a fresh work folder
# that the trap removes unless the build completes.
rm -rf "$tree.partial-"*
work="$tree.partial-$$"
trap 'rm -rf "$work"' EXIT
mkdir "$work"

start=$(date +%s)
log "extracting $tarball into $work"
tar -xJf "$tarball" -C "$work" --strip-components=1
# Of the other architectures only their Kconfig files are kept (crypto/Kconfig
# and friends source them); the rest, ~150 MB, no x86 build reads.
for arch in "$work"/arch/*/; do
	case "$arch" in */arch/x86/) continue ;; esac
	find "$arch" -type f ! -name 'Kconfig*' -delete
done
[ -f "$work/Makefile" ] || die "$tarball did not hold a linux-source-6.1/ tree"

kmake() { nice -n 10 make -C "$work" -j"$jobs" "$@"; }

# allnoconfig with the fragment's values forced (merge_config.sh -n runs
# `make allnoconfig KCONFIG_ALLCONFIG=<fragment>`).
log "configuring: allnoconfig + $(basename "$fragment")"
(cd "$work" && ARCH=x86 scripts/kconfig/merge_config.sh -n "$fragment") >&2

# Kconfig drops a value whose dependencies are not met, and merge_config.sh
# only warns about it: every value the fragment asks for must be in .config.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		want=$line
		;;
	"# CONFIG_"*" is not set")
		want=$line
		;;
	*)
		continue
		;;
	esac
	sym=${want#\# }
	sym=${sym%%[= ]*}
	got=$(grep -E "^(# )?$sym[= ]" "$work/.config" || true)
	if [ "$want" = "# $sym is not set" ] && [ -z "$got" ]; then
		continue # not even visible: off, as asked
	fi
	if [ "$got" != "$want" ]; then
		log "config: fragment asks '$want', .config has '${got:-nothing}'"
		missing=1
	fi
done <"$fragment"
[ "$missing" = 0 ] || die "the fragment does not hold under Kconfig (see above); fix $fragment"

# bzImage, then `modules`: with no module selected it only runs modpost over
# vmlinux, which writes Module.symvers (the exports an out-of-tree module
# links against; 6.1 writes no separate vmlinux.symvers). `modules` also
# depends on modules_prepare (scripts/mod/modpost, tools/objtool).
log "building bzImage modules with -j$jobs (nice -n 10)"
kmake bzImage modules >&2

[ -f "$work/arch/x86/boot/bzImage" ] || die "no bzImage after the build"
if [ ! -f "$work/Module.symvers" ]; then
	# Kernels whose `modules` step was skipped keep the exports here.
	[ -f "$work/vmlinux.symvers" ] || die "neither Module.symvers nor vmlinux.symvers after the build"
	cp "$work/vmlinux.symvers" "$work/Module.symvers"
fi
release=$(make -s -C "$work" kernelrelease)
case "$release" in
*-dma-harness-test) ;;
*) die "kernel release is '$release': expected a -dma-harness-test suffix (CONFIG_LOCALVERSION)" ;;
esac

# Complete: stamp, then the rename publishes it.
echo "release=$release built=$(date -u +%Y-%m-%dT%H:%M:%SZ) seconds=$(($(date +%s) - start))" >"$work/.dma-harness-built"
mv -T "$work" "$tree"
trap - EXIT
log "built $release in $(($(date +%s) - start)) s"
report
