#!/usr/bin/env python3
"""The many-hosts figures of issue 11, measured side by side in one run of this script.

It starts real libvirtd test hosts (Tests/Integration/libvirt-test-host.sh: each in its own
network and mount namespace on this machine, reached over TCP), then times the same matrix:
  - on this machine's embedded driver (no daemon), as a reference;
  - on one test host of capacity --capacity x 2;
  - on two test hosts of capacity --capacity each;
and, for each host set, the bytes uploaded by its first run (fresh hosts, empty pools) and by
a second identical run (which finds every file by digest and should send nothing).

On one machine every host shares the same cores, so two hosts cannot be faster than one: the
figure measures the cost of the remote path (uploads, console stream, scheduling), not a speed-up.
Root only (network namespaces). Needs a release build (swift build -c release).

    sudo Tests/Benchmarks/hosts.py [--arch all] [--variant all] [--capacity 1]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import harness_cli

SCRIPT = harness_cli.ROOT / "Tests/Integration/libvirt-test-host.sh"


class TestHost:
    def __init__(self, index: int, folder: Path):
        self.index, self.folder = index, folder
        started = subprocess.run(["sh", str(SCRIPT), "start", str(index), str(folder)], capture_output=True, text=True)
        if started.returncode != 0:
            self.stop()
            sys.exit(f"hosts: test host {index} did not start: {started.stderr.strip()}")
        self.uri = started.stdout.strip()

    def stop(self):
        subprocess.run(["sh", str(SCRIPT), "stop", str(self.index), str(self.folder)], capture_output=True)


def uploaded(report):
    return sum(host.get("uploadedBytes", 0) for host in report["run"].get("hosts") or [])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=".build/release")
    parser.add_argument("--arch", nargs="+", default=["all"])
    parser.add_argument("--variant", nargs="+", default=["all"])
    parser.add_argument("--capacity", type=int, default=1, help="guests at once per host of the two-host set")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("hosts: needs root (network namespaces and veth pairs for the test hosts)")
    matrix = ["--arch", *args.arch, "--variant", *args.variant]
    work = Path(tempfile.mkdtemp(prefix="dma-harness-hosts-"))
    hosts = []
    try:
        # The reference, warm: the embedded driver on this machine's own files.
        harness_cli.run(args.build, work / "warm", matrix, script="hosts")
        local, _ = harness_cli.run(args.build, work / "local", matrix, script="hosts")
        print(f"embedded driver, --jobs {2 * args.capacity}: {local:7.2f} s wall")
        sets = {"one host": [(31, 2 * args.capacity)], "two hosts": [(32, args.capacity), (33, args.capacity)]}
        for name, members in sets.items():
            started = [(TestHost(index, work / f"host{index}"), capacity) for index, capacity in members]
            hosts += [host for host, _ in started]
            hosts_file = work / f"{name.replace(' ', '-')}.txt"
            hosts_file.write_text("".join(f"{host.uri} capacity={capacity}\n" for host, capacity in started))
            for attempt in ("first", "second"):
                seconds, report = harness_cli.run(args.build, work / f"{name}-{attempt}", [*matrix, "--hosts", str(hosts_file)],
                                                  script="hosts")
                placed = {}
                for target in report["targets"]:
                    if target.get("host"):
                        placed[target["host"]] = placed.get(target["host"], 0) + 1
                where = ", ".join(f"{uri.split('//')[1].split('/')[0]}: {count}" for uri, count in placed.items())
                print(f"{name:9} {attempt:6} run: {seconds:7.2f} s wall  uploaded {uploaded(report):>11,} bytes  targets per host: {where}")
            for host, _ in started:
                host.stop()
    finally:
        for host in hosts:
            host.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
