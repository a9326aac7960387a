#!/usr/bin/env python3
"""Builds a benchmark corpus of CloudTrail S3 delivery files from the Invictus fixture records.

Usage: make_corpus.py OUT_DIR small|large [EVENTS]
  small: files of ~8 records (a few KB gzipped), as CloudTrail delivers in quiet accounts;
  large: files of ~4,000 records (several MB uncompressed), as busy accounts produce.
Records get fresh eventIDs and shifted times so nothing is deduplicated away. Deterministic.
"""
import glob, gzip, json, os, random, sys, uuid

out, kind = sys.argv[1], sys.argv[2]
total = int(sys.argv[3]) if len(sys.argv) > 3 else (200_000 if kind == "small" else 400_000)
here = os.path.dirname(os.path.abspath(__file__))
base = []
for f in sorted(glob.glob(os.path.join(here, "..", "testdata", "invictus", "CloudTrail", "*.json"))):
    base.extend(json.load(open(f))["Records"])
rng = random.Random(42)
per_file = 8 if kind == "small" else 4000
accounts = ["111122223333", "222233334444", "333344445555", "444455556666"]
written = 0
n = 0
while written < total:
    acct = accounts[n % len(accounts)]
    day = 1 + (n // 300) % 28
    minute = (n * 5) % 1440
    d = os.path.join(out, "AWSLogs", "o-bench00001", acct, "CloudTrail", "us-east-1", "2024", "01", f"{day:02d}")
    os.makedirs(d, exist_ok=True)
    recs = []
    for _ in range(min(per_file, total - written)):
        r = dict(rng.choice(base))
        r["eventID"] = str(uuid.UUID(int=rng.getrandbits(128)))
        r["recipientAccountId"] = acct
        r["eventTime"] = f"2024-01-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:{rng.randrange(60):02d}Z"
        recs.append(r)
    stamp = f"202401{day:02d}T{minute // 60:02d}{minute % 60:02d}Z"
    name = f"{acct}_CloudTrail_us-east-1_{stamp}_{n:016d}.json.gz"
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(gzip.compress(json.dumps({"Records": recs}, separators=(",", ":")).encode(), 6))
    written += len(recs)
    n += 1
print(json.dumps({"files": n, "events": written}))
