#!/usr/bin/env python3
"""What the fuzz targets are built from and start with (Tests/Fuzz/fuzz.sh calls this).

  fuzz_inputs.py sources TARGET.swift...       the HarnessCore files the targets need, one a line
  fuzz_inputs.py seeds KIND MAX_LEN OUT_DIR    a seed corpus cut from the recorded fixtures
  fuzz_inputs.py dict KIND OUT_FILE            a libFuzzer dictionary

`sources` follows names: a file is needed when it declares or extends a type, function or
constant that a needed file names. A needed file must import nothing but Foundation and Glibc
(libvirt and swift-log stay out of the fuzz build); if one does, the chain of names that pulled it
in is printed, so the type can be moved to a file of its own.

`seeds` cuts the recorded consoles (Tests/HarnessCoreTests/Fixtures/*.log and the consoles kept
beside the recorded reports) into windows of at most MAX_LEN bytes, each starting with the KTAP
lines still open at that point (the document's header and plan, the suite's header, name and
plan), so that a window parses as the middle of a real document. Recorded reports (run1 is
xz-compressed; it is read with lzma, never unpacked into the tree) become one-target reports
trimmed to fit; waiver files are written from the failures those reports hold.
"""
import json
import lzma
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE = ROOT / "Sources/HarnessCore"
FIXTURES = ROOT / "Tests/HarnessCoreTests/Fixtures"
ALLOWED_IMPORTS = {"Foundation", "Glibc"}

# Top-level declarations (column 0) and nested ones (indented): a nested type shadows a top-level
# one of the same name inside its own file (JUnitReport.BootOutcome is not Guest's BootOutcome).
TOP_LEVEL = re.compile(
    r"^(?:(?:public|internal|private|fileprivate|final|indirect)\s+)*"
    r"(struct|enum|class|protocol|typealias|actor|extension|func|let|var)\s+([A-Za-z_]\w*)", re.M)
NESTED = re.compile(
    r"^[ \t]+(?:(?:public|internal|private|fileprivate|final|indirect)\s+)*"
    r"(?:struct|enum|class|protocol|typealias|actor)\s+([A-Za-z_]\w*)", re.M)
IMPORT = re.compile(r"^\s*(?:@\w+\s+)*import\s+(\w+)", re.M)


def names_used(path, shadowing):
    text = re.sub(r"//[^\n]*", "", path.read_text())
    used = set(re.findall(r"[A-Za-z_]\w*", text))
    return used - set(NESTED.findall(text)) if shadowing else used


def sources(targets):
    providers = {}
    for path in sorted(CORE.rglob("*.swift")):
        for _, name in TOP_LEVEL.findall(path.read_text()):
            providers.setdefault(name, set()).add(path)
    why = {}
    todo = [pathlib.Path(t).resolve() for t in targets]
    while todo:
        path = todo.pop()
        for name in sorted(names_used(path, shadowing=path.is_relative_to(CORE))):
            for provider in sorted(providers.get(name, ())):
                if provider not in why and provider not in todo:
                    why[provider] = (name, path)
                    todo.append(provider)
    failed = False
    for path in sorted(why):
        imports = set(IMPORT.findall(path.read_text())) - ALLOWED_IMPORTS
        if imports:
            failed = True
            chain, step = [], path
            while step in why:
                name, step = why[step]
                chain.append(f"{name} (named in {step.relative_to(ROOT)})")
            print(f"fuzz_inputs: {path.relative_to(ROOT)} imports {', '.join(sorted(imports))}, needed for "
                  + " <- ".join(chain) + ": move what the fuzzed code needs into a file of its own", file=sys.stderr)
    if failed:
        sys.exit(1)
    for path in sorted(why):
        print(path.relative_to(ROOT))


# --- seeds ---------------------------------------------------------------------------------------

PRINTK = re.compile(rb"^\[\s*[0-9.]+\]\s?")
RESULT = re.compile(rb"^(not )?ok [0-9]+")


def ktap_line(line):
    """(indent, text) of a console line, as the parser sees it."""
    line = PRINTK.sub(b"", line.rstrip(b"\r\n"))
    stripped = line.lstrip(b" ")
    return len(line) - len(stripped), stripped.strip()


def console_windows(data, budget):
    """Windows of whole lines, each after the KTAP lines open where it starts."""
    document, suite, windows = [], [], []
    window, context = [], []

    def size(lines):
        return sum(map(len, lines))

    for line in data.splitlines(keepends=True):
        if not window:
            context = document + suite
        if size(context) + size(window) + len(line) > budget and window:
            windows.append(b"".join(context + window))
            window, context = [], document + suite
        if size(context) + len(line) <= budget:
            window.append(line)
        indent, text = ktap_line(line)
        if text in (b"KTAP version 1", b"TAP version 14"):
            if not document:
                document = [line]
            else:
                suite = [line]
        elif text.startswith(b"1..") and document:
            if indent == 0 and len(document) == 1:
                document.append(line)
            elif suite:
                suite.append(line)
        elif text.startswith(b"# Subtest:") and suite:
            suite.append(line)
        elif indent == 0 and RESULT.match(text):
            suite = []
    if window:
        windows.append(b"".join(context + window))
    return windows


def consoles():
    """The recorded consoles, and the inputs that found bugs before (Fixtures/fuzz)."""
    return (sorted(FIXTURES.glob("console-*.log")) + sorted((FIXTURES / "reports").rglob("console.log"))
            + sorted((FIXTURES / "fuzz").glob("ktap-*.log")))


def recorded_reports():
    for path in sorted((FIXTURES / "reports").rglob("report.json*")):
        if path.name == "report.json.xz":
            yield path, json.loads(lzma.decompress(path.read_bytes()))
        elif path.name == "report.json" and not path.with_name("report.json.xz").exists():
            yield path, json.loads(path.read_bytes())


def fitted(report, target, budget):
    """`report` with only `target`, as compact JSON, if it fits in `budget` bytes."""
    small = dict(report, targets=[target])
    if "mergedFrom" in small:
        small["mergedFrom"] = small["mergedFrom"][:1]
    data = json.dumps(small, sort_keys=True, separators=(",", ":")).encode()
    return data if len(data) <= budget else None


def cut(target, tests, shallow):
    """A copy of `target` with each suite cut to its first failing and other tests, `tests` of each
    (and, `shallow`, every other list cut short too)."""
    target = json.loads(json.dumps(target))
    for suite in target["suites"]:
        failing = [test for test in suite["tests"] if test["status"] == "fail"]
        others = [test for test in suite["tests"] if test["status"] != "fail"]
        suite["tests"] = sorted(failing[:tests] + others[:tests], key=lambda test: test["number"])
        suite["diagnostics"] = suite["diagnostics"][:2]
    kept = {test["id"] for suite in target["suites"] for test in suite["tests"]}
    for attribute in target["attributes"]:
        attribute["evidence"] = [test for test in attribute["evidence"] if test in kept][:2]
    for finding in target["findings"]:
        finding["excerpt"] = finding["excerpt"][:3]
    if shallow:
        for key in ("attributes", "findings", "stages"):
            target[key] = target[key][:3]
        kernel = target.get("kernel") or {}
        if kernel.get("config"):
            kernel["config"] = dict(sorted(kernel["config"].items())[:3])
        debian = (kernel.get("provenance") or {}).get("debian", {})
        if isinstance(debian.get("packages"), list):
            del debian["packages"][1:]
    return target


def report_seeds(budget):
    """Per recorded report: the whole report if it fits, each target cut down to fit, and each
    suite of each target on its own (so that every suite, dma_bench's timings among them, is in a
    seed that fits)."""
    for path, report in recorded_reports():
        whole = json.dumps(report, sort_keys=True, indent=2).encode()
        if len(whole) <= budget:
            yield whole
        for target in report["targets"]:
            for tests, shallow in ((8, False), (2, False), (1, False), (1, True), (0, True)):
                data = fitted(report, cut(target, tests, shallow), budget)
                if data:
                    yield data
                    break
            for index in range(len(target["suites"])):
                for tests in (3, 1):
                    one = cut(dict(target, suites=[target["suites"][index]]), tests, shallow=True)
                    data = fitted(report, one, budget)
                    if data:
                        yield data
                        break
        yield json.dumps(dict(report, targets=[])).encode()


def waiver_seeds():
    readme = [
        {"target": "arm*-direct", "attribute": "WRITE_COMBINE", "reason": "CMA alignment, bug 123", "expires": "2027-03-01"},
        {"target": "x86_64-iommu", "test": "dma_alloc.none_4097", "reason": "..."},
    ]
    yield {"waivers": readme}
    for _, report in recorded_reports():
        for target in report["targets"]:
            failing = [test["id"] for suite in target["suites"] for test in suite["tests"] if test["status"] == "fail"]
            violated = [a["attribute"] for a in target["attributes"] if a.get("verdict", a.get("conformance")) == "violated"]  # 2.x, 1.x
            waivers = [{"target": target["id"], "test": test, "reason": "seed"} for test in failing[:3]]
            waivers += [{"target": target["id"][:3] + "*", "attribute": "DMA_ATTR_" + name, "reason": "seed",
                         "expires": "2030-12-31"} for name in violated[:2]]
            if failing:
                suite = failing[0].split(".")[0]
                waivers.append({"target": "*", "test": suite + ".*", "reason": "seed", "expires": "2020-01-01"})
            if waivers:
                yield {"waivers": waivers}
    yield {"waivers": []}


def seeds(kind, budget, out):
    out.mkdir(parents=True, exist_ok=True)
    count = 0

    def write(data):
        nonlocal count
        if len(data) <= budget:
            (out / f"seed-{count:04d}").write_bytes(data)
            count += 1

    if kind in ("consoles", "consoles-with-qemu"):
        for path in consoles():
            for window in console_windows(path.read_bytes(), budget):
                write(window)
        qemu = (FIXTURES / "qemu-arm64-edu-clamp.log").read_bytes()
        if kind == "consoles":
            write(qemu[:budget])
        else:
            # A console, a NUL, then its QEMU log: the collect stage reads both.
            clamped = console_windows((FIXTURES / "console-arm64-edu-clamp.log").read_bytes(), budget // 2)
            for window in clamped[-6:]:
                write(window + b"\0" + qemu[: budget - len(window) - 1])
    elif kind == "reports":
        for data in report_seeds(budget):
            write(data)
    elif kind == "waivers":
        for waivers in waiver_seeds():
            write(json.dumps(waivers, indent=2).encode())
    else:
        sys.exit(f"fuzz_inputs: unknown seed kind {kind}")
    if count == 0:
        sys.exit(f"fuzz_inputs: no {kind} seed fits in {budget} bytes")


# --- dictionaries --------------------------------------------------------------------------------

def schema_words(node, words):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties":
                words.update(value)
            elif key == "enum":
                words.update(v for v in value if isinstance(v, str))
            schema_words(value, words)
    elif isinstance(node, list):
        for value in node:
            schema_words(value, words)


NUMBERS = ["0", "-1", "1e308", "-1e308", "1e-320", "inf", "-inf", "nan", "9223372036854775807",
           "-9223372036854775808", "18446744073709551616"]


def dictionary(kind, out):
    if kind == "ktap":
        tokens = (pathlib.Path(__file__).parent / "ktap.dict").read_text()
        # Every key the host understands, from the protocol's own table.
        keys = sorted(set(re.findall(r"^\| `([a-z0-9_]+)`", (ROOT / "harness/PROTOCOL.md").read_text(), re.M)))
        tokens += "".join(f'"{key}="\n' for key in keys)
        tokens += "".join(f'"={number}"\n' for number in NUMBERS)
    elif kind in ("report", "waivers"):
        words = set()
        for schema in sorted((ROOT / "harness/schema").glob("report-*.schema.json")):
            schema_words(json.loads(schema.read_text()), words)
        if kind == "waivers":
            words = {"waivers", "target", "test", "attribute", "reason", "expires", "DMA_ATTR_", "2027-03-01"}
        tokens = "".join(f"{json.dumps(json.dumps(word))}\n" for word in sorted(words))
        tokens += '"{"\n"}"\n"["\n"]"\n":"\n","\n"null"\n"true"\n"false"\n"*"\n"?"\n"[!"\n'
        # Numbers at the edges, bare (JSON numbers) and quoted (the guest's values are strings).
        for number in NUMBERS:
            tokens += f'"{number}"\n' + f"{json.dumps(json.dumps(number))}\n"
    else:
        sys.exit(f"fuzz_inputs: unknown dictionary {kind}")
    pathlib.Path(out).write_text(tokens)


def main(argv):
    if len(argv) >= 2 and argv[0] == "sources":
        sources(argv[1:])
    elif len(argv) == 4 and argv[0] == "seeds":
        seeds(argv[1], int(argv[2]), pathlib.Path(argv[3]))
    elif len(argv) == 3 and argv[0] == "dict":
        dictionary(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
