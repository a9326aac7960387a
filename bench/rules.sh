#!/usr/bin/env bash
# Cost of the `cis` and `seed` packs (29 filter patterns: 3 rules, 18 metric filters with 18
# alarms) over plain reading, in one run on the same files:
#   stats                      reading and counting (the reference)
#   scan, no detector          reading through scan's batches and store (first-seen off)
#   scan, cis + seed           the same plus every pattern on every event, datapoints, alarms
# Usage: bench/rules.sh [EVENTS]   (corpus: bench/make_corpus.py large, in bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-400000}
cargo build --release --quiet
bin=$PWD/target/release/trailhound
dir=bench/out/corpus-large-$events
[ -d "$dir" ] || python3 bench/make_corpus.py "$dir" large "$events" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[first_seen]\nenabled = false\n' > "$work/none.toml"
printf '[first_seen]\nenabled = false\n[rules]\npacks = ["cis", "seed"]\n[rules.params]\nsensitive_buckets = ["customer-exports"]\nown_accounts = ["123837392027"]\n' > "$work/packs.toml"
echo "corpus=$dir cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) date=$(date -u +%F)"
python3 - "$bin" "$dir" "$work" <<'PY'
import os, resource, statistics, subprocess, sys, time
bin, d, work = sys.argv[1:4]
jobs = {
    "stats": [bin, "stats", "-q", "--format", "json", d],
    "scan, no detector": [bin, "scan", "-q", "--state", ":memory:", "--config", f"{work}/none.toml", "--format", "jsonl", d],
    "scan, cis + seed": [bin, "scan", "-q", "--state", ":memory:", "--config", f"{work}/packs.toml", "--format", "jsonl", d],
}
res = {k: [] for k in jobs}
for _ in range(5):  # interleaved rounds, so load changes hit every job alike
    for name, cmd in jobs.items():
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        res[name].append((wall, cpu))
ref_wall = statistics.median(w for w, _ in res["stats"])
ref_cpu = statistics.median(c for _, c in res["stats"])
print(f"{'job':<20} {'wall s':>8} {'cpu s':>8} {'wall/stats':>11} {'cpu/stats':>10}")
for name, runs in res.items():
    w = statistics.median(x for x, _ in runs)
    c = statistics.median(y for _, y in runs)
    print(f"{name:<20} {w:>8.3f} {c:>8.3f} {w / ref_wall:>10.2f}x {c / ref_cpu:>9.2f}x")
PY
