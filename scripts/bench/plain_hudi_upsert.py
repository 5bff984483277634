"""The lake step of the Airflow pipeline Danau replaces, as a baseline for `npm run bench:lake`: a
plain PySpark Hudi datasource upsert of a batch of DMS files, with AWSDmsAvroPayload (Op = D deletes) and nothing else: no ordering guard
across batches, no quarantine, no change log, no tombstones, no idempotency by batch id.

    python plain_hudi_upsert.py --spec s3://…/spec.json --base-path s3://…/plain/<table> [--remote sc://…] [--session-id …]

It reads the same spec as Danau's job (lake_job.py upsert) and shapes the rows the same way (casts to
the lake types, timestamps in the platform's time zone, the daily partition `dt`), so the two differ
only in what Danau does on top; its Hudi settings are the job's small-batch ones, so tuning is equal.
Prints one JSON line: {"ok": true, "seconds": …}.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "spark"))

from danau_lake import options as hudi  # noqa: E402
from danau_lake import storage  # noqa: E402
from danau_lake.cli import session  # noqa: E402
from danau_lake.upsert import read_batch, sized_for, to_platform_time, typed  # noqa: E402


def main(argv):
    parser = argparse.ArgumentParser(prog="plain_hudi_upsert")
    parser.add_argument("--spec", required=True)
    parser.add_argument("--base-path", required=True)
    parser.add_argument("--remote")
    parser.add_argument("--session-id")
    parser.add_argument("--rows", type=int, required=True, help="the batch's rows: sizes the write as Danau's job sizes its own (sized_for), without a count")
    args = parser.parse_args(argv)
    started = time.time()
    spec = json.loads(storage.read_text(args.spec))
    spark = session("plain-upsert", args.remote, args.session_id)
    spec = sized_for(spark, spec, args.rows)
    from pyspark.sql import functions as F

    rows = to_platform_time(typed(read_batch(spark, spec), spec), spec)
    shaped = rows.select(*[F.col(f"`{c['name']}`") for c in spec["columns"]], F.col("Op"), F.col("dms_change_seq"), F.col("dt"))
    key = spec["primaryKey"]
    opts = {
        **hudi.small_batch_options(int(spec.get("parallelism") or 2)),
        **hudi.retention_options(int(spec["cleanerCommitsRetained"])),
        "hoodie.table.name": f"plain_{spec['hudiTableName']}",
        "hoodie.datasource.write.table.type": spec["tableType"],
        "hoodie.datasource.write.operation": "upsert",
        "hoodie.datasource.write.recordkey.field": ",".join(key),
        # The change sequence orders a key's changes within the batch (DMS's own ordering column).
        "hoodie.datasource.write.precombine.field": "dms_change_seq",
        "hoodie.datasource.write.partitionpath.field": "dt",
        "hoodie.datasource.write.hive_style_partitioning": "true",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.ComplexKeyGenerator" if len(key) > 1 else "org.apache.hudi.keygen.SimpleKeyGenerator",
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.AWSDmsAvroPayload",
        "hoodie.index.type": spec["indexType"],
        **(hudi.record_index_write_options() if spec["indexType"] == "RECORD_INDEX" else {}),
    }
    if spec["tableType"] == "MERGE_ON_READ":
        opts.update({"hoodie.compact.inline": "true", "hoodie.compact.inline.max.delta.commits": str(int(spec["compactionDeltaCommits"]))})
    shaped.write.format("hudi").options(**opts).mode("append").save(args.base_path.rstrip("/"))
    print(json.dumps({"ok": True, "seconds": round(time.time() - started, 3)}), flush=True)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
