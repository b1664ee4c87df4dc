#!/usr/bin/env python3
"""Soak: N back-to-back `harness run`s of the same matrix, counting what must never happen.

Per run it records:
  - infrastructure errors: an exit code other than 0, 1 or 4 (harness_cli.RESULT_EXITS), or a target
    with status `error`;
  - differences: targets whose test ids or statuses differ from the first run's, test by test;
  - leaks after the run: processes whose command line names the cache or the run's --out, domains
    still known to the embedded libvirt root (its status files), temporary files of the run;
  - file descriptors: the harness process's open descriptors, sampled while it runs (first, max,
    last sample), so that a descriptor leaked per target shows as growth;
  - growth of the cache and of the libvirt root (bytes, after vs before);
  - destroy times: how long virDomainDestroy took per guest (the harness logs it with --verbose).

It is a script, not a timed test: it prints one line per run and a summary, writes everything to
--json if given, and exits 1 if any run had an infrastructure error, a leak or a difference.

    Tests/Benchmarks/soak.py --runs 100 [--harness .build/release/harness] [--arch all --variant all]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from harness_cli import RESULT_EXITS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOMAIN_PREFIX = "dmah-"


def default_harness():
    for candidate in (".build/release/harness", ".build/debug/harness"):
        path = os.path.join(ROOT, candidate)
        if os.access(path, os.X_OK):
            return path
    sys.exit("soak: no built harness; run `swift build -c release` first or pass --harness")


def default_cache():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "dma-harness")


def tree_bytes(path):
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def command_lines():
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        if raw:
            yield int(entry), raw.replace(b"\0", b" ").decode(errors="replace")


def leftover_processes(needles):
    me = os.getpid()
    return [f"{pid} {line[:160]}" for pid, line in command_lines() if pid != me and any(n in line for n in needles)]


def leftover_domains(cache, pid):
    found = []
    for root in (os.path.join(cache, "libvirt"), os.path.join(cache, f"libvirt-run-{pid}")):
        run = os.path.join(root, "run/qemu")
        if os.path.isdir(run):
            found += [os.path.join(run, n) for n in os.listdir(run) if n.startswith(f"{DOMAIN_PREFIX}{pid}-")]
    return found


def leftover_temporaries(cache, pid):
    found = [n for n in os.listdir(tempfile.gettempdir()) if n.startswith("dma-harness-") and f"-{pid}" in n]
    if os.path.exists(os.path.join(cache, f"libvirt-run-{pid}")):
        found.append(f"libvirt-run-{pid}")
    for folder, dirs, _ in os.walk(os.path.join(cache, "debs")):
        found += [os.path.join(folder, d) for d in dirs if d.startswith(f".download-{pid}-")]
    return found


class DescriptorSampler(threading.Thread):
    """Counts /proc/PID/fd of the running harness every `interval` seconds."""

    def __init__(self, pid, interval=0.25):
        super().__init__(daemon=True)
        self.pid, self.interval, self.samples, self.done = pid, interval, [], False

    def run(self):
        while not self.done:
            try:
                self.samples.append(len(os.listdir(f"/proc/{self.pid}/fd")))
            except OSError:
                return
            time.sleep(self.interval)


def test_statuses(report):
    statuses = {}
    for target in report.get("targets", []):
        statuses[target["id"]] = {"status": target["status"]}
        for suite in target.get("suites", []):
            for test in suite.get("tests", []):
                statuses[target["id"]][f"{suite['name']}.{test['name']}#{test.get('number')}"] = test["status"]
    return statuses


def differences(first, now):
    diffs = []
    for target in sorted(set(first) | set(now)):
        a, b = first.get(target, {}), now.get(target, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                diffs.append(f"{target}:{key} {a.get(key)} -> {b.get(key)}")
    return diffs


def one_run(args, index, cache):
    out = os.path.join(args.work, f"run-{index:03d}")
    shutil.rmtree(out, ignore_errors=True)
    before = {"cache": tree_bytes(cache), "libvirt": tree_bytes(os.path.join(cache, "libvirt"))}
    command = [args.harness, "run", "--arch", *args.arch, "--variant", *args.variant, "--out", out, "--verbose"]
    if args.cache_dir:
        command += ["--cache-dir", args.cache_dir]
    start = time.time()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = DescriptorSampler(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    sampler.done = True
    wall = time.time() - start
    report_file = os.path.join(out, "report.json")
    report = json.load(open(report_file)) if os.path.exists(report_file) else {}
    errors = [f"exit {process.returncode}"] if process.returncode not in RESULT_EXITS else []
    errors += [f"{t['id']}: {t.get('reason')}" for t in report.get("targets", []) if t["status"] == "error"]
    leaks = leftover_processes([out, cache]) + leftover_domains(cache, process.pid) + \
        leftover_temporaries(cache, process.pid)
    after = {"cache": tree_bytes(cache), "libvirt": tree_bytes(os.path.join(cache, "libvirt"))}
    destroys = [float(x) for x in re.findall(r"destroy returned in ([0-9.]+) s", stderr)]
    record = {
        "run": index, "exit": process.returncode, "wall_s": round(wall, 2), "errors": errors, "leaks": leaks,
        "fds": {"first": sampler.samples[0] if sampler.samples else None,
                "max": max(sampler.samples) if sampler.samples else None,
                "last": sampler.samples[-1] if sampler.samples else None},
        "cache_growth_bytes": after["cache"] - before["cache"],
        "libvirt_growth_bytes": after["libvirt"] - before["libvirt"],
        "destroy_s": destroys, "statuses": test_statuses(report),
    }
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--harness", default=None)
    parser.add_argument("--arch", nargs="+", default=["all"])
    parser.add_argument("--variant", nargs="+", default=["all"])
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "dma-harness-soak"))
    parser.add_argument("--keep", action="store_true", help="keep each run's --out folder")
    parser.add_argument("--json", default=None, help="write every run's record here")
    args = parser.parse_args()
    args.harness = args.harness or default_harness()
    cache = args.cache_dir or default_cache()
    os.makedirs(args.work, exist_ok=True)

    records, first = [], None
    for index in range(1, args.runs + 1):
        record = one_run(args, index, cache)
        first = first or record["statuses"]
        record["differences"] = differences(first, record["statuses"])
        records.append(record)
        fds = record["fds"]
        print(f"run {index:3d}: exit {record['exit']} {record['wall_s']:6.1f} s  errors {len(record['errors'])}  "
              f"differences {len(record['differences'])}  leaks {len(record['leaks'])}  "
              f"fds {fds['first']}/{fds['max']}/{fds['last']}  cache +{record['cache_growth_bytes']} B  "
              f"libvirt +{record['libvirt_growth_bytes']} B  destroy max "
              f"{max(record['destroy_s']) if record['destroy_s'] else float('nan'):.2f} s", flush=True)
        for line in record["errors"] + record["leaks"] + record["differences"][:10]:
            print(f"         {line}", flush=True)

    destroys = [d for r in records for d in r["destroy_s"]]
    summary = {
        "runs": len(records),
        "infrastructure_errors": sum(len(r["errors"]) for r in records),
        "runs_with_differences": sum(1 for r in records if r["differences"]),
        "leaks": sum(len(r["leaks"]) for r in records),
        "fd_last_samples": [r["fds"]["last"] for r in records],
        "cache_growth_bytes_total": sum(r["cache_growth_bytes"] for r in records[1:]),
        "libvirt_growth_bytes_total": sum(r["libvirt_growth_bytes"] for r in records[1:]),
        "destroy_s": {"count": len(destroys), "max": max(destroys) if destroys else None,
                      "mean": sum(destroys) / len(destroys) if destroys else None},
        "wall_s_mean": sum(r["wall_s"] for r in records) / len(records),
    }
    print("summary: " + json.dumps(summary))
    if args.json:
        for record in records:
            record.pop("statuses")
        json.dump({"summary": summary, "runs": records}, open(args.json, "w"), indent=2)
    bad = summary["infrastructure_errors"] or summary["runs_with_differences"] or summary["leaks"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
