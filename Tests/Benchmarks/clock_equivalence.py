#!/usr/bin/env python3
"""Does a faster guest clock, a skipped boot self-test or a kernel unpacked on the host give the same answers?

Runs the same targets twice and compares every target's test ids and statuses:
  - `--against default` (the default): `--clock realtime`, then each arch's profile clock (what
    `harness run` uses without --clock);
  - `--against icount --icount-shift N`: real time, then icount shift N for every arch;
  - `--against boot-self-tests`: the defaults (boot shortcuts on), then `--boot-self-tests`
    (README, "Boot shortcuts");
  - `--against boot-compressed`: the defaults (each profile's `uncompressedBoot` kernel, unpacked
    on the host), then `--boot-compressed` (the kernel image as Debian ships it, decompressor and all).
Prints one line per target (tests, differences, the second run's clock, guest seconds in each)
and exits 1 if any target differs, so a default is chosen on evidence. Needs a release build
(swift build -c release) and a warm cache.

    Tests/Benchmarks/clock_equivalence.py --arch all --variant all --debian bookworm trixie sid
    Tests/Benchmarks/clock_equivalence.py --against boot-self-tests --arch all --variant all
    Tests/Benchmarks/clock_equivalence.py --against boot-compressed --arch arm x86_64 --debian all
"""
import argparse
import sys
import tempfile
from pathlib import Path

import harness_cli


def run(out: Path, clock: list, args) -> dict:
    selection = ["--arch", *args.arch, "--variant", *args.variant, "--debian", *args.debian, *clock]
    return harness_cli.run(args.build, out, selection, script="clock_equivalence")[1]


def clock_name(target) -> str:
    clock = (target or {}).get("clock") or {"mode": "realtime"}
    return clock["mode"] + ("" if clock.get("shift") is None else f" shift {clock['shift']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="+", default=["all"])
    parser.add_argument("--variant", nargs="+", default=["all"])
    parser.add_argument("--debian", nargs="+", default=["bookworm"])
    parser.add_argument("--against", choices=["default", "icount", "boot-self-tests", "boot-compressed"], default="default")
    parser.add_argument("--icount-shift", default="0", help="with --against icount")
    parser.add_argument("--build", default=".build/release")
    parser.add_argument("--keep", help="keep both runs' output under this folder (<base>/, <against>/)")
    args = parser.parse_args()
    base_name, base_flags, other_flags = {
        "default": ("realtime", ["--clock", "realtime"], []),
        "icount": ("realtime", ["--clock", "realtime"], ["--clock", "icount", "--icount-shift", args.icount_shift]),
        "boot-self-tests": ("shortcuts", [], ["--boot-self-tests"]),
        "boot-compressed": ("unpacked", [], ["--boot-compressed"]),
    }[args.against]
    with tempfile.TemporaryDirectory(prefix="dh-clock-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        real = run(folder / base_name, base_flags, args)
        counted = run(folder / args.against, other_flags, args)
    by_id = {target["id"]: target for target in counted["targets"]}
    differing = 0
    print(f"{'target':26} {'status':12} {'tests':>5} {'differ':>6} {'other clock':>14} {base_name + ' s':>12} {args.against + ' s':>16}")
    for target in real["targets"]:
        other = by_id.get(target["id"])
        if target["status"] == "unsupported" and not target["suites"]:
            print(f"{target['id']:26} {'unsupported':12}")
            continue
        a, b = harness_cli.test_statuses(target), harness_cli.test_statuses(other or {"suites": []})
        diff = sorted(key for key in a.keys() | b.keys() if a.get(key) != b.get(key))
        differing += bool(diff) or other is None or target["status"] != other["status"]
        seconds = lambda t: (t or {}).get("boot", {}) and t["boot"]["guestSeconds"]
        print(f"{target['id']:26} {target['status'] + ('' if other and other['status'] == target['status'] else '/' + (other or {}).get('status', 'missing')):12} "
              f"{len(a):5} {len(diff):6} {clock_name(other):>14} {seconds(target) or 0:12.1f} {seconds(other) or 0:16.1f}")
        for key in diff[:10]:
            print(f"    {key}: {base_name} {a.get(key)}, {args.against} {b.get(key)}")
        if args.against == "boot-self-tests" and other:
            # Two runs that booted alike would prove nothing: the second must have run the tests.
            words = lambda t: ((t.get("kernel") or {}).get("kernelArguments") or [])
            if "cryptomgr.notests" not in words(target) or "cryptomgr.notests" in words(other):
                differing += 1
                print(f"    kernel arguments not as asked: {' '.join(words(target))} | {' '.join(words(other))}")
        if args.against == "boot-compressed" and other:
            # The first run must have booted an unpacked kernel, the second the image itself.
            boot_image = lambda t: (t.get("kernel") or {}).get("bootImage")
            if not boot_image(target) or boot_image(other):
                differing += 1
                print(f"    boot images not as asked: {boot_image(target)} | {boot_image(other)}")
    print(f"{differing} target(s) differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
