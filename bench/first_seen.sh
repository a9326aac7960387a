#!/usr/bin/env bash
# Cost of first-seen detection over plain reading, and against DuckDB, in one run on the same
# simulated organisation (issue 4's benchmark):
#   stats                  reading and counting (the reference)
#   baseline learn         reading plus the first-seen fold, into a fresh store
#   scan                   the same with alerting (default config: first-seen only), fresh store
#   DuckDB                 the distinct principal x action x region x outcome set with first
#                          and last time, in SQL over the same files
# Rounds are interleaved, so a change in load hits every job alike; medians are printed.
# Usage: bench/first_seen.sh [ACCOUNTS] [DAYS] [SCALE] [THREADS] [ROUNDS] [DUCKDB_ROUNDS]
# WORKDIR picks where the corpus goes (default: a temporary folder; /dev/shm avoids the disk).
set -euo pipefail
accounts=${1:-2}
days=${2:-7}
scale=${3:-1.0}
threads=${4:-$(nproc)}
rounds=${5:-7}
duck_rounds=${6:-3}
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
bin=$PWD/target/release/trailhound
work=$(mktemp -d "${WORKDIR:-${TMPDIR:-/tmp}}/th-first-seen.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$bin" simulate --out "$work/sim" --accounts "$accounts" --days "$days" --scale "$scale" -j "$threads" --format json >/dev/null 2>&1
echo "accounts=$accounts days=$days scale=$scale threads=$threads rounds=$rounds cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) date=$(date -u +%F) commit=$(git rev-parse --short HEAD)"
python3 - "$bin" "$work" "$threads" "$rounds" "$duck_rounds" <<'PY'
import os, resource, statistics, subprocess, sys, time
bin, work, threads, rounds, duck_rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sim = f"{work}/sim"
state = f"{work}/state.sqlite"
def fresh():
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(state + suffix):
            os.remove(state + suffix)
jobs = {
    "stats": [bin, "stats", "-q", "-j", threads, "--format", "json", sim],
    "baseline learn": [bin, "baseline", "learn", "-q", "-j", threads, "--state", state, sim],
    "scan": [bin, "scan", "-q", "-j", threads, "--state", state, "--format", "jsonl", sim],
    "DuckDB": ["python3", "bench/duckdb_first_seen.py", f"{sim}/AWSLogs", threads, "region"],
}
res = {k: [] for k in jobs}
for r in range(rounds):
    for name, cmd in jobs.items():
        if name == "DuckDB" and r >= duck_rounds:
            continue
        fresh()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        res[name].append((wall, cpu))
med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in res.items()}
sw, sc = med["stats"]
print(f"{'job':<16} {'runs':>4} {'wall s':>8} {'cpu s':>8} {'wall/stats':>11} {'cpu/stats':>10}")
for name, (w, c) in med.items():
    print(f"{name:<16} {len(res[name]):>4} {w:>8.3f} {c:>8.3f} {w / sw:>10.3f}x {c / sc:>9.3f}x")
lw, lc = med["baseline learn"]
dw, dc = med["DuckDB"]
print(f"DuckDB / baseline learn: {dw / lw:.1f}x wall, {dc / lc:.1f}x CPU")
PY
