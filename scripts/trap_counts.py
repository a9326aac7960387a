#!/usr/bin/env python3
"""Independent count of events touching given traps, for the expected figures in tests/it/traps.rs.

Reads CloudTrail JSON (delivery files, gzip or not) with the standard library only and counts,
per trap, the events whose caller is the trap, or where the trap's identifier appears as a string
anywhere in requestParameters (at any depth) or as a resources[].ARN. This is deliberately broader
than trailhound's per-service parameter list, so a difference shows what the detector skips.

usage: trap_counts.py DIR TYPE=VALUE...   (TYPE: user, role, key, instance, or any other name
                                           matched as a whole string or ARN suffix)
"""
import gzip, json, os, re, sys
from collections import Counter

def records(root):
    for dirpath, _, names in os.walk(root):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            op = gzip.open if n.endswith(".gz") else open
            try:
                doc = json.load(op(p, "rt"))
            except Exception:
                continue
            recs = doc.get("Records", [doc]) if isinstance(doc, dict) else doc
            for r in recs if isinstance(recs, list) else []:
                if isinstance(r, dict):
                    yield r

def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)

def names(value):
    """The value itself and, for ARNs, the resource's last name segment (and secret base name)."""
    out = {value}
    if value.startswith("arn:"):
        res = value.split(":", 5)[-1]
        tail = re.split(r"[/:]", res)
        out.update(t for t in tail if t)
        if ":secret:" in value:
            name = value.split(":secret:", 1)[1]
            out.add(name)
            out.add(re.sub(r"-[A-Za-z0-9]{6}$", "", name))
        if ":alias/" in value:
            out.add("alias/" + value.split(":alias/", 1)[1])
    out.add(value.lstrip("/"))
    return out

def touches(r, kind, want):
    ui = r.get("userIdentity") or {}
    issuer = ((ui.get("sessionContext") or {}).get("sessionIssuer") or {})
    want_n = want.lstrip("/")
    if kind == "key" and ui.get("accessKeyId") == want:
        return True
    if kind == "user" and (ui.get("userName") == want or issuer.get("userName") == want) and ui.get("type") != "AssumedRole":
        return True
    if kind == "role" and issuer.get("userName") == want and issuer.get("type") == "Role":
        return True
    if kind == "instance" and str(ui.get("arn", "")).endswith("/" + want):
        return True
    for s in strings(r.get("requestParameters")):
        if want in names(s) or want_n in names(s):
            return True
    for res in r.get("resources") or []:
        arn = res.get("ARN") if isinstance(res, dict) else None
        if isinstance(arn, str) and (want in names(arn) or want_n in names(arn)):
            return True
    return False

def main():
    root, traps = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    c = Counter()
    for r in records(root):
        for kind, want in traps:
            if touches(r, kind, want):
                c[(kind, want)] += 1
    for (kind, want), n in sorted(c.items()):
        print(f"{n}\t{kind}\t{want}")

main()
