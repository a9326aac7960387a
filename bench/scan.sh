#!/usr/bin/env bash
# Cost of a full scan over plain reading (issue 14's speed goal), in one run on the same files:
#   stats    reading and counting (the reference)
#   scan     first-seen, the `cis` and `seed` packs with their parameters, and traps, into a
#            fresh on-disk store each round, as a user runs it
# The corpus is `trailhound simulate`'s organisation trail (member accounts, many principals,
# sessions, services, attacks), not `make_corpus.py`'s copies of a few fixture identities: the
# first-seen fold and the principal cache cost what they cost on many identities only. The
# simulator also writes the config that goes with it (`sim.trailhound.toml`: both packs with
# `[rules.params]` naming the organisation's accounts, buckets and roles, and the traps of
# docs/traps.md), which is the one the scan uses. More days than the burn-in, so first-seen alerts.
# Rounds are interleaved, so a change in load hits both jobs alike; medians are printed.
# Usage: bench/scan.sh [ACCOUNTS] [DAYS] [SCALE] [ROUNDS] [THREADS]
# The defaults give about a million events. The corpus is kept under WORKDIR (default bench/out;
# /dev/shm keeps the disk out of the reading) and reused by later runs with the same arguments;
# the stores are written under TMPDIR (the disk), one fresh store per round.
set -euo pipefail
accounts=${1:-4}
days=${2:-16}
scale=${3:-0.45}
rounds=${4:-7}
threads=${5:-$(nproc)}
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/trailhound
corpus=${WORKDIR:-bench/out}/scan-sim-$accounts-$days-$scale
if [ ! -f "$corpus.trailhound.toml" ]; then
  rm -rf "$corpus"
  mkdir -p "$(dirname "$corpus")"
  "$bin" simulate --out "$corpus" --accounts "$accounts" --days "$days" --scale "$scale" --seed 7 >/dev/null 2>&1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/th-scan.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "corpus=$corpus files=$(find "$corpus" -path '*/CloudTrail/*' -name '*.json.gz' | wc -l) threads=$threads rounds=$rounds cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) date=$(date -u +%F) commit=$(git rev-parse --short HEAD)"
PYTHONPATH=bench python3 - "$bin" "$corpus" "$work" "$threads" "$rounds" <<'PY'
import os, subprocess, sys
from rounds import run, table
bin, corpus, work, threads, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
state = f"{work}/state.sqlite"
jobs = {
    "stats": [bin, "stats", "-q", "-j", threads, "--format", "json", corpus],
    "scan": [bin, "scan", "-q", "-j", threads, "--state", state, "--config", f"{corpus}.trailhound.toml", "--format", "jsonl", corpus],
}
def fresh():
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(state + suffix):
            os.remove(state + suffix)
fresh()
events = subprocess.run(jobs["stats"], capture_output=True, text=True, check=True).stdout
alerts = subprocess.run(jobs["scan"], capture_output=True, text=True).stdout.count("\n")
print(f"events={__import__('json').loads(events)['events']} alerts={alerts}")
res = {k: [] for k in jobs}
for _ in range(rounds):
    for name, cmd in jobs.items():
        fresh()
        res[name].append(run(cmd))
table(res, "stats")
PY
