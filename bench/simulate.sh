#!/usr/bin/env bash
# Simulates a corpus and measures, in one run on the same files:
#   1. `trailhound simulate` throughput (events/s, MB/s written, CPU, peak memory);
#   2. `gzip -dc` over the tree (the floor: decompression alone, one thread);
#   3. `trailhound baseline learn` (the first-seen job) into a fresh store;
#   4. DuckDB (from PyPI) computing the same job in SQL: the distinct
#      principal x action x region x outcome set with first and last time.
# Usage: bench/simulate.sh [ACCOUNTS] [DAYS] [SCALE] [THREADS]
# WORKDIR picks where the corpus is written (default: a temporary folder). On ext4 that has seen
# many files created and deleted, inode allocation dominates file creation (perf shows the kernel's
# `recently_deleted` scan); WORKDIR=/dev/shm measures the generator rather than the disk.
set -euo pipefail
accounts=${1:-4}
days=${2:-7}
scale=${3:-1.0}
threads=${4:-$(nproc)}
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
bin=$PWD/target/release/trailhound
work=$(mktemp -d "${WORKDIR:-${TMPDIR:-/tmp}}/th-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
timer=(/usr/bin/time -f "wall_s=%e cpu_user_s=%U cpu_sys_s=%S peak_rss_kb=%M")
echo "accounts=$accounts days=$days scale=$scale threads=$threads cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) workdir=$work date=$(date -u +%F)"
echo "== simulate"
"${timer[@]}" "$bin" simulate --out "$work/sim" --accounts "$accounts" --days "$days" --scale "$scale" -j "$threads" --format json >"$work/summary.json" 2>"$work/stderr"
cat "$work/stderr"
python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"records={s['records']} log_files={s['log_files']} digest_files={s['digest_files']} "
      f"json_bytes_per_record={s['bytes_json'] / max(s['records'], 1):.0f} gzip_ratio={s['bytes_json'] / max(s['bytes_gzip'], 1):.1f}")
PY
echo "== gzip -dc (one thread)"
"${timer[@]}" sh -c "find '$work/sim' -path '*CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 gzip -dc > /dev/null"
echo "== trailhound baseline learn -j $threads (fresh store)"
"${timer[@]}" "$bin" baseline learn -q -j "$threads" --state "$work/state.sqlite" "$work/sim" 2>&1 | sed 's/; state .*//'
echo "== trailhound stats -j $threads (reading only)"
"${timer[@]}" "$bin" stats -q -j "$threads" --format json "$work/sim" >/dev/null
echo "== DuckDB, $threads threads: principal x action x region x outcome, first/last time"
"${timer[@]}" python3 bench/duckdb_first_seen.py "$work/sim/AWSLogs" "$threads" region
