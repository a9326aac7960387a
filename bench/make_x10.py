"""Builds a 10x corpus from a CloudTrail tree: ten copies with event IDs suffixed, so
deduplication keeps every copy. Same principals and actions, ten times the events.

usage: python3 make_x10.py SRC_TREE OUT_DIR
"""
import gzip, json, os, sys

src, dst = sys.argv[1], sys.argv[2]
for k in range(10):
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".json.gz"):
                continue
            d = json.load(gzip.open(os.path.join(root, f)))
            for r in d.get("Records", []):
                if "eventID" in r:
                    r["eventID"] += f"-{k}"
            out = os.path.join(dst, f"copy{k}", os.path.relpath(os.path.join(root, f), src))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with gzip.open(out, "wt") as g:
                json.dump(d, g)
