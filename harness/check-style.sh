#!/bin/sh
# Runs the kernel's checkpatch.pl --strict on the guest module's sources.
# Usage: harness/check-style.sh [LINUX_SRC]   (or LINUX_SRC in the environment)
# LINUX_SRC is an extracted kernel source tree; only scripts/checkpatch.pl,
# scripts/spelling.txt and scripts/const_structs.checkpatch are needed.
# Exits non-zero on any error, warning or check.
set -u

src=${1:-${LINUX_SRC:-}}
if [ -z "$src" ]; then
	echo "usage: $0 LINUX_SRC (or set LINUX_SRC)" >&2
	exit 2
fi
cp="$src/scripts/checkpatch.pl"
if [ ! -f "$cp" ]; then
	echo "$0: $cp not found" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
status=0
for f in "$here"/module/*.[ch]; do
	# compat.h is the one file that may test the kernel's version (an
	# out-of-tree module builds for several lines); anywhere else
	# LINUX_VERSION_CODE stays an error.
	ignore=
	[ "$(basename "$f")" = compat.h ] && ignore=LINUX_VERSION_CODE
	# --no-tree: the source tree is only partly there; checkpatch finds
	# spelling.txt and const_structs.checkpatch next to itself.
	if ! out=$(perl "$cp" --strict --no-tree --no-summary --terse \
			--show-types ${ignore:+--ignore "$ignore"} \
			-f "$f" 2>&1); then
		status=1
	fi
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		status=1
	fi
done
if [ "$status" -eq 0 ]; then
	echo "checkpatch --strict: clean ($(ls "$here"/module/*.[ch] | wc -l) files)"
fi
exit "$status"
