#!/usr/bin/env python3
"""Counts CloudTrail records under a path without trailhound, to check `trailhound stats`.

Usage: python3 scripts/independent_count.py PATH...
Prints records, distinct events (by account + eventID + eventSource, eventName and eventTime:
a record reusing an ID for another event is another event; records without an eventID count as
distinct), and first/last eventTime. Deliberately simple and separate from the Rust reader.
"""
import gzip, json, os, sys

def is_record(o):
    return isinstance(o, dict) and any(k in o for k in ("eventName", "eventSource", "eventTime"))

def records_in(value):
    if isinstance(value, list):
        for v in value:
            yield from records_in(v)
    elif isinstance(value, dict):
        if "Records" in value:
            yield from records_in(value["Records"] or [])
        elif "digestStartTime" in value:
            return
        elif "detail-type" in value and "detail" in value:
            yield value["detail"]
        elif isinstance(value.get("CloudTrailEvent"), str):
            yield json.loads(value["CloudTrailEvent"])
        elif is_record(value):
            yield value
        else:
            inner = [v for v in value.values() if isinstance(v, dict) and "eventName" in v and "eventSource" in v]
            if len(inner) == 1:
                yield inner[0]

def values_in(text):
    dec = json.JSONDecoder()
    i = 0
    while i < len(text):
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            break
        try:
            v, i = dec.raw_decode(text, i)
            yield v
        except json.JSONDecodeError:
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1

def main(paths):
    total, keys, anon, times = 0, set(), 0, []
    for root in paths:
        files = [root] if os.path.isfile(root) else [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
        for f in sorted(files):
            if "CloudTrail-Digest" in f or f.endswith((".zip", ".md", ".txt", ".csv")):
                continue
            data = open(f, "rb").read()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            for v in values_in(data.decode("utf-8", "replace")):
                for r in records_in(v):
                    if not is_record(r):
                        continue
                    total += 1
                    acct = r.get("recipientAccountId") or (r.get("userIdentity") or {}).get("accountId") or ""
                    if r.get("eventID"):
                        keys.add((acct, r["eventID"], r.get("eventSource"), r.get("eventName"), r.get("eventTime")))
                    else:
                        anon += 1
                    t = r.get("eventTime")
                    if isinstance(t, str) and len(t) == 20 and t.endswith("Z"):
                        times.append(t)
    print(json.dumps({"records": total, "distinct": len(keys) + anon, "first": min(times, default=None), "last": max(times, default=None)}))

if __name__ == "__main__":
    main(sys.argv[1:])
