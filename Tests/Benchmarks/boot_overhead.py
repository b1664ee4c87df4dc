#!/usr/bin/env python3
"""Warm `harness run --arch X` wall time against a raw QEMU boot of the same kernel and initramfs.

Run side by side, alternating, several times each; prints medians and the ratio per arch.
The raw command is rebuilt from the domain XML the harness wrote, so both boot the same thing
(machine, CPU, memory, kernel, initramfs, command line, edu device). Needs a built harness
(swift build) and a warm cache (one harness run per arch first, which this script does).

    Tests/Benchmarks/boot_overhead.py --arch arm arm64 x86_64 --runs 5
"""
import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from harness_cli import RESULT_EXITS

ROOT = Path(__file__).resolve().parents[2]
QEMU_NS = "{http://libvirt.org/schemas/domain/qemu/1.0}"


def harness(*args):
    return [str(ROOT / ".build/debug/harness"), *args]


def timed(command):
    start = time.monotonic()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return time.monotonic() - start, result


def raw_qemu_command(domain_xml: Path, kernel_image: str = None):
    """The raw floor for what the domain XML describes: plain QEMU with plain TCG and the machine's
    default firmware (the domain's clock and firmware are the harness's speed-ups, not the
    floor's), booting `kernel_image` when given (the image Debian ships, where the harness
    booted the ELF it unpacked from it)."""
    root = ET.parse(domain_xml).getroot()
    os_type = root.find("os/type")
    machine = os_type.get("machine")
    extra = [arg.get("value") for arg in root.iter(f"{QEMU_NS}arg")]
    machine_options = []
    rest = []
    i = 0
    while i < len(extra):
        if extra[i] == "-machine":
            machine_options.append(extra[i + 1])
            i += 2
        elif extra[i] == "-icount":
            i += 2
        else:
            rest.append(extra[i])
            i += 1
    # A profile without a CPU model (riscv64) leaves it to the machine's default, as libvirt does.
    cpu = root.find("cpu/model")
    command = [root.find("devices/emulator").text,
               "-machine", ",".join([machine, "accel=tcg"] + machine_options),
               *(["-cpu", cpu.text] if cpu is not None else []),
               "-m", root.find("memory").text, "-smp", root.find("vcpu").text,
               "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
               "-kernel", kernel_image or root.find("os/kernel").text,
               "-initrd", root.find("os/initrd").text,
               "-append", root.find("os/cmdline").text] + rest
    return command


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", nargs="+", default=["arm", "arm64", "x86_64"])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="dma-harness-bench-") as scratch:
        for arch in arguments.arch:
            out = Path(scratch) / arch
            warm, result = timed(harness("run", "--arch", arch, "--out", str(out)))
            if result.returncode not in RESULT_EXITS:
                sys.exit(f"warm-up run for {arch} failed ({result.returncode}): {result.stderr.strip()}")
            first = json.loads((out / "report.json").read_text())["targets"][0]
            raw = raw_qemu_command(out / f"{arch}-direct" / "domain.xml", (first.get("kernel") or {}).get("image"))
            harness_times, raw_times = [], []
            for _ in range(arguments.runs):
                seconds, _ = timed(harness("run", "--arch", arch, "--out", str(out)))
                harness_times.append(seconds)
                seconds, result = timed(raw)
                if result.returncode != 0:
                    sys.exit(f"raw QEMU for {arch} failed: {shlex.join(raw)}\n{result.stderr[-500:]}")
                raw_times.append(seconds)
            report = json.loads((out / "report.json").read_text())
            guest = report["targets"][0]["boot"]["guestSeconds"]
            rows.append((arch, statistics.median(harness_times), statistics.median(raw_times), guest,
                         harness_times, raw_times))

    print(f"{'arch':8} {'harness s':>10} {'raw qemu s':>11} {'ratio':>6} {'guest s (last)':>15}")
    for arch, harness_median, raw_median, guest, _, _ in rows:
        print(f"{arch:8} {harness_median:10.2f} {raw_median:11.2f} {harness_median / raw_median:6.2f} {guest:15.2f}")
    print("\nruns (s):")
    for arch, _, _, _, harness_times, raw_times in rows:
        print(f"  {arch}: harness {[round(t, 2) for t in harness_times]} raw {[round(t, 2) for t in raw_times]}")


if __name__ == "__main__":
    main()
