#!/usr/bin/env bash
# Writes the outputs a refactor must leave unchanged (stats JSON, scan alerts, baseline export,
# search, rules, evaluate) into OUT, for one binary. Run it with the binary before and after a
# change and `diff -r` the two folders.
#
#   scripts/golden.sh BIN OUT [DATASETS_DIR]
#
# DATASETS_DIR (optional, e.g. ../shared/datasets) adds `stats` over every dataset in it.
set -uo pipefail
bin=$(realpath "$1"); out=$2; data=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out"; mkdir -p "$out"; out=$(realpath "$out")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$root"
run() { # name, command...: stdout to OUT/name, exit status appended
  local name=$1; shift
  "$@" >"$out/$name" 2>"$out/$name.stderr"; echo "exit $?" >"$out/$name.exit"
  # Workers finish files in any order: messages and search hits are compared as sorted sets.
  sed -i "s#$work#WORK#g" "$out/$name.stderr"; sort -o "$out/$name.stderr" "$out/$name.stderr"
  # When an alert entered the outbox is the wall clock's, different on every run.
  sed -i -E 's/"raised_at":"[^"]*"/"raised_at":""/g' "$out/$name"
  case $name in search-*) sort -o "$out/$name" "$out/$name" ;; esac
}
run stats-testdata.json "$bin" stats -q --format json testdata
run stats-invictus.json "$bin" stats -q --format json testdata/invictus
"$bin" simulate --out "$work/sim" --accounts 3 --days 20 --scale 0.1 --seed 7 >/dev/null 2>&1
cp "$work/sim.labels.json" "$out/sim.labels.json"
run stats-sim.json "$bin" stats -q --format json "$work/sim"
run scan-sim.jsonl "$bin" scan -q --state "$work/sim.sqlite" --config "$work/sim.trailhound.toml" --format jsonl "$work/sim"
run export-sim.jsonl "$bin" baseline export --state "$work/sim.sqlite"
run evaluate-sim.txt "$bin" evaluate --labels "$work/sim.labels.json" --alerts "$out/scan-sim.jsonl"
run rules-sim.txt "$bin" rules --config "$work/sim.trailhound.toml"
run learn-invictus.txt "$bin" baseline learn -q --state "$work/inv.sqlite" --until 2023-07-10T12:20:00Z testdata/invictus
printf '[first_seen]\nburn_in_days = 0\n[rules]\npacks = ["cis", "seed"]\n' >"$work/inv.toml"
run scan-invictus.jsonl "$bin" scan -q --state "$work/inv.sqlite" --config "$work/inv.toml" --format jsonl testdata/invictus
run export-invictus.jsonl "$bin" baseline export --state "$work/inv.sqlite"
run scan-testdata.jsonl "$bin" scan -q --state "$work/all.sqlite" --config "$work/inv.toml" --format jsonl testdata
run search-sim.txt "$bin" search '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }' "$work/sim" --format jsonl
run evaluate-invictus.txt "$bin" evaluate --config "$work/inv.toml" --labels testdata/evaluate/invictus_labels_subset.csv testdata/evaluate/invictus
run evaluate-stratus.txt "$bin" evaluate --labels testdata/stratus testdata/stratus
# One worker, as the counts were first taken with (two records that share an eventID but differ
# are both kept now, so the worker count no longer picks which one is read).
if [ -n "$data" ]; then
  for d in "$data"/*/; do
    run "stats-data-$(basename "$d").json" "$bin" stats -q -j 1 --format json "$d"
  done
fi
ls "$out" | wc -l
