#!/usr/bin/env bash
# Benchmark: `trailhound stats` against `gzip -dc` over the same CloudTrail .json.gz files, in
# the same run, on a corpus of many small files and one of large files.
# Usage: bench/stats.sh [SMALL_EVENTS] [LARGE_EVENTS] [ROUNDS]     (corpora kept in bench/out/)
set -euo pipefail
cd "$(dirname "$0")/.."
small_events=${1:-200000}
large_events=${2:-400000}
rounds=${3:-5}
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
PYTHONPATH=bench python3 - "$bin" "$out" "$small_events" "$large_events" "$rounds" <<'PY'
import json, os, subprocess, sys
from rounds import medians, run
bin, out, small, large, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
corpora = []
for kind, n in (("small", small), ("large", large)):
    d = f"{out}/corpus-{kind}-{n}"
    files = sum(len(f) for _, _, f in os.walk(d))
    report = json.loads(subprocess.run([bin, "stats", "-q", "--format", "json", d], capture_output=True, check=True).stdout)
    corpora.append((kind, d, files, report))
# Interleaved: each round runs every job once, so a change in the machine's load hits all alike.
jobs = {}
for kind, d, _, _ in corpora:
    jobs[(kind, "stats")] = [bin, "stats", "-q", "--format", "json", d]
    jobs[(kind, "gzip")] = ["sh", "-c", f"find {d} -name '*.gz' -print0 | xargs -0 gzip -dc > /dev/null"]
res = {k: [] for k in jobs}
for _ in range(rounds):
    for k, cmd in jobs.items():
        res[k].append(run(cmd))
print(f"median of {rounds} interleaved rounds (wall time; CPU = user + sys)")
print(f"{'corpus':<7} {'files':>7} {'events':>8} {'MB':>7} {'stats s':>8} {'cpu s':>6} {'events/s':>10} {'MB/s':>7} {'gzip -dc s':>10} {'ratio':>6}")
for kind, d, files, report in corpora:
    (t_th, c_th), (t_gz, _) = medians(res[(kind, "stats")]), medians(res[(kind, "gzip")])
    ev, mb = report["events"], report["bytes_decoded"] / 1e6
    print(f"{kind:<7} {files:>7} {ev:>8} {mb:>7.1f} {t_th:>8.3f} {c_th:>6.3f} {ev / t_th:>10.0f} {mb / t_th:>7.0f} {t_gz:>10.3f} {t_gz / t_th:>5.2f}x")
PY
