import duckdb, sys, time
root = sys.argv[1]
threads = sys.argv[2] if len(sys.argv) > 2 else "1"
t = time.time()
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
q = f"""
WITH r AS (
  SELECT unnest(Records) AS e FROM read_json('{root}/**/*.json.gz', columns={{Records: 'JSON[]'}}, maximum_object_size=16777216)
), k AS (
  SELECT coalesce(e->>'$.userIdentity.sessionContext.sessionIssuer.arn', e->>'$.userIdentity.arn', e->>'$.userIdentity.invokedBy') AS principal,
         e->>'$.eventSource' AS src, e->>'$.eventName' AS name, (e->>'$.errorCode') IS NULL AS ok, e->>'$.eventTime' AS t
  FROM r
)
SELECT count(*) FROM (SELECT principal, src, name, ok, min(t), max(t), count(*) FROM k GROUP BY ALL)
"""
n = con.execute(q).fetchone()[0]
print(f"duckdb {root} threads={threads}: {n} (principal, action, outcome) keys in {time.time()-t:.2f}s")
