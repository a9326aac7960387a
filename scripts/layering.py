#!/usr/bin/env python3
"""Prints the folder-level imports of src/ and every pair of folders that import each other.

Usage: python3 scripts/layering.py   (exit 1 when a cycle exists)
Test code (`tests.rs`, `*_tests.rs` and what follows `#[cfg(test)]`) is left out: tests may
reach anywhere.
"""
import collections, os, re, sys

deps = collections.defaultdict(lambda: collections.defaultdict(list))
for root, _, files in os.walk("src"):
    for f in files:
        if not f.endswith(".rs") or f == "tests.rs" or f.endswith("_tests.rs"):
            continue
        p = os.path.join(root, f)
        top = p[4:].split("/")[0].removesuffix(".rs")
        for i, line in enumerate(open(p)):
            if line.startswith("#[cfg(test)]"):
                break
            for m in re.finditer(r"crate::(\w+)", line):
                if m.group(1) != top:
                    deps[top][m.group(1)].append(f"{p}:{i + 1}")
cycles = 0
for a in sorted(deps):
    print(a, "->", ", ".join(sorted(deps[a])))
for a in sorted(deps):
    for b in sorted(deps[a]):
        if a < b and a in deps.get(b, {}):
            cycles += 1
            print(f"cycle: {a} <-> {b}: {deps[a][b][:3]} / {deps[b][a][:3]}")
sys.exit(1 if cycles else 0)
