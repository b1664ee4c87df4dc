#!/usr/bin/env python3
"""Streak: the README's test command, `swift test`, N times in a row, with the host checked after each.

Issue 7's bar is 20 green runs in a row with nothing left behind. Per run it records the exit code,
the wall time, the test count of the run's last line, and what the run left on the host that was not
there before the streak began:
  - processes: QEMU, libvirtd, dnsmasq, make or the harness, by command line;
  - domains: status files in the default cache's libvirt root (`run/qemu/*.xml`);
  - temporary entries in /tmp: the tests' scratch folders (`harness-it-*`), the harness's
    (`dma-harness-*`), root links (`dmah-root-*`);
  - network namespaces named `dmah-*` (the many-hosts tests' libvirtd hosts) and mounts under /tmp
    (the fault matrix's small tmpfs);
  - locks in the cache that some process still holds.

It stops at the first red run or leftover (the streak is broken) unless --keep-going. Each run's
output goes to --logs. It is a script, not a test; it needs root, as the integration tests do.

    sudo Tests/Benchmarks/test_streak.py --runs 20 [--logs /tmp/streak]
"""
import argparse
import fcntl
import os
import re
import subprocess
import sys
import time

from soak import default_cache

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROCESS_WORDS = ("qemu-system", "libvirtd", "dnsmasq", "/harness ", "make -C")
TMP_PREFIXES = ("harness-it-", "dma-harness-", "dmah-root-")


def processes():
    found = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                line = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if any(word in line + " " for word in PROCESS_WORDS):
            found.add(f"{entry} {line[:160]}")
    return found


def domains(cache):
    run = os.path.join(cache, "libvirt", "run", "qemu")
    try:
        return {os.path.join(run, name) for name in os.listdir(run) if name.endswith(".xml")}
    except OSError:
        return set()


def temporary():
    return {os.path.join("/tmp", name) for name in os.listdir("/tmp") if name.startswith(TMP_PREFIXES)}


def namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.startswith("dmah-")}


def mounts():
    with open("/proc/mounts") as f:
        return {line.split()[1] for line in f if line.split()[1].startswith("/tmp/")}


def held_locks(cache):
    held = set()
    for folder, dirs, files in os.walk(cache):
        dirs[:] = [d for d in dirs if d not in ("usr", "lib")]
        for name in files:
            if not (name.endswith(".lock") or name == "libvirt.owner"):
                continue
            path = os.path.join(folder, name)
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError:
                held.add(path)
            finally:
                os.close(fd)
    return held


def host_state(cache):
    return {"process": processes(), "domain": domains(cache), "temporary": temporary(),
            "netns": namespaces(), "mount": mounts(), "lock held": held_locks(cache)}


def leftovers(before, after):
    # A process is new by its pid and command line; the others by name.
    return [f"{kind}: {item}" for kind in after for item in sorted(after[kind] - before[kind])]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--logs", default="/tmp/dma-harness-streak-logs")
    parser.add_argument("--cache", default=default_cache())
    parser.add_argument("--keep-going", action="store_true", help="go on after a red run or a leftover")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("test_streak: the integration tests need root; run it with sudo")
    os.makedirs(args.logs, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"streak of {args.runs} `swift test` runs on {commit} in {ROOT}, logs in {args.logs}", flush=True)
    before = host_state(args.cache)
    green = 0
    walls = []
    for run in range(1, args.runs + 1):
        log = os.path.join(args.logs, f"run-{run:02d}.log")
        start = time.monotonic()
        with open(log, "w") as out:
            code = subprocess.run(["swift", "test"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
        wall = time.monotonic() - start
        walls.append(wall)
        with open(log, errors="replace") as f:
            text = f.read()
        totals = re.findall(r"Test run with (\d+) tests? in (\d+) suites? (passed|failed)[^\n]*", text)
        failed = sorted(set(re.findall(r'^✘ Test "([^"]{0,100})', text, re.M)))
        left = leftovers(before, host_state(args.cache))
        ok = code == 0 and not left and totals and totals[-1][2] == "passed"
        green = green + 1 if ok and green == run - 1 else green
        summary = f"{totals[-1][0]} tests {totals[-1][2]}" if totals else "no test total"
        print(f"run {run:2d}  exit {code}  {wall:6.1f} s  {summary}  leftovers {len(left)}"
              + (f"  failed: {'; '.join(failed)}" if failed else ""), flush=True)
        for line in left:
            print(f"        {line}", flush=True)
        if not ok and not args.keep_going:
            break
    print(f"green in a row from the first: {green} of {args.runs}; wall per run "
          f"min {min(walls):.1f} s, max {max(walls):.1f} s, mean {sum(walls) / len(walls):.1f} s", flush=True)
    return 0 if green == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
