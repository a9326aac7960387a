#!/usr/bin/env bash
# Measures `trailhound simulate` throughput: events/s, MB/s (JSON and gzip written), CPU time
# and peak memory. Usage: bench/simulate.sh [ACCOUNTS] [DAYS] [SCALE] [THREADS]
# The machine's load matters: the script prints the load average next to the figures.
set -euo pipefail
accounts=${1:-4}
days=${2:-7}
scale=${3:-1.0}
threads=${4:-$(nproc)}
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/trailhound
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timer=()
if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -f "cpu_user_s=%U cpu_sys_s=%S peak_rss_kb=%M"); fi
echo "simulate: accounts=$accounts days=$days scale=$scale threads=$threads cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
"${timer[@]}" "$bin" simulate --out "$work/sim" --accounts "$accounts" --days "$days" --scale "$scale" -j "$threads" --format json >"$work/summary.json" 2>"$work/stderr"
cat "$work/stderr"
python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"records={s['records']} log_files={s['log_files']} digest_files={s['digest_files']} "
      f"json_bytes_per_record={s['bytes_json'] / max(s['records'], 1):.0f} gzip_ratio={s['bytes_json'] / max(s['bytes_gzip'], 1):.1f}")
PY
