#!/usr/bin/env python3
"""Where a profiled kernel's warps wait, from Nsight Compute's CSV pages (profile-kernels.sh):
   profile-stalls.py RAW.csv SASS.csv
RAW.csv (`ncu -i R --page raw --csv`): the sampled stall reasons, in cycles per issued
instruction, largest first. SASS.csv (`ncu -i R --page source --print-source sass --csv`): the
instructions with the most stall samples. Either file may hold an ncu error instead of a table
(an older ncu, a failed run): that part is skipped with the file's first line."""
import csv
import re
import sys


def table(path):
    try:
        rows = list(csv.reader(open(path, newline="")))
    except OSError as e:
        print(f"{path}: {e}")
        return None
    start = next((i for i, r in enumerate(rows) if len(r) > 3), None)
    if start is None:
        print(f"{path}: no table ({rows[0][0][:120] if rows and rows[0] else 'empty'})")
        return None
    return rows[start], rows[start + 1:]


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def stall_reasons(path):
    parsed = table(path)
    if not parsed:
        return
    header, rows = parsed
    data = [r for r in rows if len(r) == len(header) and number(r[0]) is not None]  # not the units row
    if not data:
        print(f"{path}: no metric values")
        return
    values = dict(zip(header, data[0]))  # one profiled launch
    pattern = re.compile(r"smsp__average_warps?_(?:latency_)?issue_stalled_(\w+?)_per_issue_active\.ratio$")
    # "selected" is the cycle a warp issues, not a stall.
    reasons = sorted(((number(v), pattern.match(k).group(1)) for k, v in values.items()
                      if pattern.match(k) and number(v) is not None and pattern.match(k).group(1) != "selected"),
                     reverse=True)
    print("stall reasons (warp cycles per issued instruction):")
    for cycles, reason in reasons[:14]:
        if cycles > 0.005:
            print(f"  {cycles:7.3f}  {reason}")


def hot_instructions(path, count=30):
    parsed = table(path)
    if not parsed:
        return
    header, rows = parsed
    samples = next((i for i, h in enumerate(header) if h.startswith("Warp Stall Sampling (All")), None)
    source = next((i for i, h in enumerate(header) if h == "Source"), None)
    address = next((i for i, h in enumerate(header) if h == "Address"), None)
    if samples is None or source is None:
        print(f"{path}: no stall-sampling column (columns: {', '.join(header[:12])})")
        return
    lines = [r for r in rows if len(r) == len(header) and number(r[samples]) is not None]
    total = sum(number(r[samples]) for r in lines) or 1.0
    print(f"\ninstructions with the most stall samples ({int(total)} samples):")
    for r in sorted(lines, key=lambda r: -number(r[samples]))[:count]:
        where = r[address] if address is not None else ""
        print(f"  {100 * number(r[samples]) / total:5.1f}%  {where:>6}  {r[source].strip()[:100]}")


stall_reasons(sys.argv[1])
hot_instructions(sys.argv[2])
