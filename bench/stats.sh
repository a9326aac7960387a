#!/usr/bin/env bash
# Benchmark: `trailhound stats` against `gzip -dc` over the same CloudTrail .json.gz files, in
# the same run, on a corpus of many small files and one of large files.
# Usage: bench/stats.sh [SMALL_EVENTS] [LARGE_EVENTS]     (results also in bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
small_events=${1:-200000}
large_events=${2:-400000}
out=bench/out
mkdir -p "$out"
cargo build --release --quiet
bin=target/release/trailhound
for kind in small large; do
  n=$([ "$kind" = small ] && echo "$small_events" || echo "$large_events")
  dir="$out/corpus-$kind-$n"
  if [ ! -d "$dir" ]; then
    python3 bench/make_corpus.py "$dir" "$kind" "$n" >/dev/null
  fi
done
python3 - "$bin" "$out" "$small_events" "$large_events" <<'PY'
import json, os, statistics, subprocess, sys, time
bin, out, small, large = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def timed(cmd, shell=False):
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(cmd, shell=shell, check=False, stdout=subprocess.DEVNULL if shell else subprocess.PIPE, stderr=subprocess.DEVNULL)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)
rows = []
for kind, n in (("small", small), ("large", large)):
    d = f"{out}/corpus-{kind}-{n}"
    files = sum(len(f) for _, _, f in os.walk(d))
    report = json.loads(subprocess.run([bin, "stats", "-q", "--format", "json", d], capture_output=True, check=True).stdout)
    mb = report["bytes_decoded"] / 1e6
    t_th = timed([bin, "stats", "-q", "--format", "json", d])
    t_gz = timed(f"find {d} -name '*.gz' -print0 | xargs -0 gzip -dc > /dev/null", shell=True)
    rows.append((kind, files, report["events"], mb, t_th, t_gz))
print(f"{'corpus':<7} {'files':>7} {'events':>8} {'MB':>7} {'stats s':>8} {'events/s':>10} {'MB/s':>7} {'gzip -dc s':>10} {'ratio':>6}")
for kind, files, ev, mb, t_th, t_gz in rows:
    print(f"{kind:<7} {files:>7} {ev:>8} {mb:>7.1f} {t_th:>8.3f} {ev / t_th:>10.0f} {mb / t_th:>7.0f} {t_gz:>10.3f} {t_gz / t_th:>5.2f}x")
PY
