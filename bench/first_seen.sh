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
# DUCKDB_ROUNDS=0 leaves DuckDB out (a quick look at the cost over stats).
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
[ "$duck_rounds" = 0 ] || python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
bin=$PWD/target/release/trailhound
work=$(mktemp -d "${WORKDIR:-${TMPDIR:-/tmp}}/th-first-seen.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$bin" simulate --out "$work/sim" --accounts "$accounts" --days "$days" --scale "$scale" -j "$threads" --format json >/dev/null 2>&1
echo "accounts=$accounts days=$days scale=$scale threads=$threads rounds=$rounds cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) date=$(date -u +%F) commit=$(git rev-parse --short HEAD)"
PYTHONPATH=bench python3 - "$bin" "$work" "$threads" "$rounds" "$duck_rounds" <<'PY'
import os, sys
from rounds import run, table
bin, work, threads, rounds, duck_rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sim = f"{work}/sim"
state = f"{work}/state.sqlite"
jobs = {
    "stats": [bin, "stats", "-q", "-j", threads, "--format", "json", sim],
    "baseline learn": [bin, "baseline", "learn", "-q", "-j", threads, "--state", state, sim],
    "scan": [bin, "scan", "-q", "-j", threads, "--state", state, "--format", "jsonl", sim],
}
if duck_rounds > 0:
    jobs["DuckDB"] = ["python3", "bench/duckdb_first_seen.py", f"{sim}/AWSLogs", threads, "region"]
res = {k: [] for k in jobs}
for r in range(rounds):
    for name, cmd in jobs.items():
        if name == "DuckDB" and r >= duck_rounds:
            continue
        for suffix in ("", "-wal", "-shm"):  # every job starts from a fresh store
            if os.path.exists(state + suffix):
                os.remove(state + suffix)
        res[name].append(run(cmd))
med = table(res, "stats")
if "DuckDB" in med:
    (lw, lc), (dw, dc) = med["baseline learn"], med["DuckDB"]
    print(f"DuckDB / baseline learn: {dw / lw:.1f}x wall, {dc / lc:.1f}x CPU")
PY
