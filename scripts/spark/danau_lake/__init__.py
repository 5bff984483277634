"""The lake job as a package: raw DMS files -> Hudi tables in the processed zone, and reads of them.

One entry (cli.main) runs each command in whichever Spark it is given:
  - a warm Spark Connect session (`--remote sc://…`): the local engine the stack keeps running, and
    EMR's Spark Connect sessions in production; the Python here is the client, the plan runs there;
  - a classic session (spark-submit, an EMR step, scripts/spark/lake_job.py): big one-off work.

The code therefore uses the DataFrame API only (no sparkContext, no JVM handle), and reaches the
object store for small files (specs, results, the Hudi timeline) through boto3 (storage.py).

Modules: contract (spec/result schema shared with TypeScript, error types), storage, timeline,
options (Hudi write options), upsert (the upsert path and the ordering guard), replay, query.
"""
