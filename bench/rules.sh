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
PYTHONPATH=bench python3 - "$bin" "$dir" "$work" <<'PY'
import sys
from rounds import run, table
bin, d, work = sys.argv[1:4]
jobs = {
    "stats": [bin, "stats", "-q", "--format", "json", d],
    "scan, no detector": [bin, "scan", "-q", "--state", ":memory:", "--config", f"{work}/none.toml", "--format", "jsonl", d],
    "scan, cis + seed": [bin, "scan", "-q", "--state", ":memory:", "--config", f"{work}/packs.toml", "--format", "jsonl", d],
}
res = {k: [] for k in jobs}
for _ in range(5):
    for name, cmd in jobs.items():
        res[name].append(run(cmd))
table(res, "stats")
PY
