#!/usr/bin/env python3
"""Sorts the reports in compute-sanitizer logs (bench/device/sanitizer_run.sh) by whose they are.

Each report (an "=========" block that starts with a message: an invalid access, a hazard, a barrier
error, a leak, or an API call that returned an error) is classed by its host backtrace:
  - cufile:     the innermost frame outside the driver (libcuda.so) is in libcufile.so (cuFile's own calls, seen in its compatibility
                mode: they are not ours to fix, and no frame of ours is between them and the driver);
  - deliberate: a test that provokes the error on purpose (DELIBERATE below), e.g. an allocation
                larger than the device to check our out-of-memory message;
  - ours:       everything else.
Prints a table per log and in all; exits 1 when any report is ours, 2 when a log has no summary line
(the tool did not finish).
    sanitizer_triage.py LOG [LOG ...]
"""
import collections
import re
import sys

# Tests that make an API call fail on purpose, and the call.
DELIBERATE = {
    "CudaMemory_OutOfMemoryNamesTheSizeAndTheFreeMemory_Test": ("cudaMallocAsync", "cudaGetLastError"),
}

MESSAGE = re.compile(r"^========= (?! )(?!Saved host backtrace)(?!(?:ERROR|LEAK|RACECHECK) SUMMARY)(?!COMPUTE-SANITIZER)(.+)$")
FRAME = re.compile(r"^=========\s+Host Frame:\s*(.*?)\s*\[0x[0-9a-f]+\] in (\S+)")
SUMMARY = re.compile(r"^========= (ERROR|LEAK|RACECHECK) SUMMARY: (.*)$")


def reports(lines):
    """Yields (message, frames) per report; frames are (function, library), innermost first."""
    message, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        m = MESSAGE.match(line)
        if m and not line.startswith("=========     "):
            if message is not None:
                yield message, frames
            message, frames = m.group(1), []
            continue
        f = FRAME.match(line)
        if f and message is not None:
            frames.append((f.group(1), f.group(2)))
    if message is not None:
        yield message, frames


def classify(message, frames):
    # The driver's own frames (libcuda) sit under an allocation's backtrace; the caller is what counts.
    frames = [f for f in frames if "libcuda.so" not in f[1]]
    if frames and "libcufile.so" in frames[0][1]:
        return "cufile"
    for test, calls in DELIBERATE.items():
        if any(test in function for function, _ in frames) and any(call in message for call in calls):
            return "deliberate"
    return "ours"


def short(message):
    message = re.sub(r"0x[0-9a-f]+", "0x…", message)
    return re.sub(r"[0-9][0-9,]* bytes", "N bytes", message)


def main(paths):
    totals = collections.Counter()
    kinds = collections.Counter()
    unfinished = []
    for path in paths:
        with open(path, errors="replace") as f:
            lines = f.readlines()
        counts = collections.Counter()
        for message, frames in reports(lines):
            cls = classify(message, frames)
            counts[cls] += 1
            kinds[(cls, short(message))] += 1
        summaries = [m.group(0)[10:] for m in map(SUMMARY.match, lines) if m]
        if not summaries:
            unfinished.append(path)
        totals.update(counts)
        print(f"{path}: ours {counts['ours']}, cufile {counts['cufile']}, deliberate {counts['deliberate']};"
              f" {' '.join(summaries) or 'NO SUMMARY LINE'}")
    print(f"all logs: ours {totals['ours']}, cufile {totals['cufile']}, deliberate {totals['deliberate']}")
    for (cls, message), n in sorted(kinds.items()):
        print(f"  {n:5d}  {cls:10s} {message}")
    if totals["ours"]:
        return 1
    return 2 if unfinished else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
