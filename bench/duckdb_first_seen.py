"""The first-seen job in DuckDB SQL, as a user would write it over the same files: the distinct
(principal, action, outcome[, region]) set with first and last time and a count.
Usage: python3 bench/duckdb_first_seen.py ROOT [THREADS] [region]"""
import duckdb, glob, sys, time
root = sys.argv[1]
threads = sys.argv[2] if len(sys.argv) > 2 else "1"
region = len(sys.argv) > 3 and sys.argv[3] == "region"
t = time.time()
# Log files only (digests have no Records), listed here: DuckDB globs allow one `**`.
files = sorted(f for f in glob.glob(f"{root}/**/*.json.gz", recursive=True) if "/CloudTrail/" in f)
listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
q = f"""
WITH r AS (
  SELECT unnest(Records) AS e FROM read_json({listing}, columns={{Records: 'JSON[]'}}, maximum_object_size=16777216)
), k AS (
  SELECT coalesce(e->>'$.userIdentity.sessionContext.sessionIssuer.arn', e->>'$.userIdentity.arn', e->>'$.userIdentity.invokedBy') AS principal,
         e->>'$.eventSource' AS src, e->>'$.eventName' AS name, (e->>'$.errorCode') IS NULL AS ok,
         {"e->>'$.awsRegion'" if region else "NULL"} AS region, e->>'$.eventTime' AS t
  FROM r
)
SELECT count(*) FROM (SELECT principal, src, name, ok, region, min(t), max(t), count(*) FROM k GROUP BY ALL)
"""
n = con.execute(q).fetchone()[0]
what = "(principal, action, outcome, region)" if region else "(principal, action, outcome)"
print(f"duckdb {duckdb.__version__} {root} threads={threads}: {n} {what} keys in {time.time()-t:.2f}s")
