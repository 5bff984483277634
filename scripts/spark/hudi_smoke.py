"""Hudi smoke test for the local Spark stack.

Run it through the wrapper (it needs the Hudi confs and jars):

    scripts/spark/submit.sh scripts/spark/hudi_smoke.py [--run-id ID] [--base-path URI] [--cleanup]

For each table type (COPY_ON_WRITE, MERGE_ON_READ) it writes four rows in two daily partitions to
<base>/cow and <base>/mor (base: s3a://$DANAU_PROCESSED_BUCKET/_smoke/hudi_smoke_<run id>), upserts
one row (two versions of it in one batch: the precombine field must pick the newer), deletes one,
and reads the table back:
  - COPY_ON_WRITE: snapshot query, plus an incremental query from the first commit;
  - MERGE_ON_READ: snapshot query (base + log files merged) and read-optimized query (base files
    only: the update and the delete sit in log files until compaction, so it still shows the
    original four rows).
Every read is checked against the expected rows. Progress lines start with "hudi_smoke:" (written
to stderr, which spark-submit merges into its stdout); the last line of stdout is a one-line JSON
summary. Exit 0 when every check passed, 1 otherwise (with the reason).
"""

import argparse
import json
import os
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from pyspark.sql import SparkSession
from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

SCHEMA = StructType(
    [
        StructField("id", StringType(), False),
        StructField("name", StringType(), True),
        StructField("amount", DoubleType(), True),
        StructField("updated_at", LongType(), False),  # precombine field
        StructField("event_date", StringType(), False),  # daily partition, yyyy-MM-dd
    ]
)

INITIAL = [
    ("1", "alice", 10.0, 1, "2024-01-01"),
    ("2", "bob", 20.0, 1, "2024-01-01"),
    ("3", "carol", 30.0, 1, "2024-01-02"),
    ("4", "dave", 40.0, 1, "2024-01-02"),
]
# Two versions of id 2 in one batch: the higher updated_at must win.
UPSERT = [
    ("2", "bob-v2", 25.0, 3, "2024-01-01"),
    ("2", "bob-stale", 99.0, 2, "2024-01-01"),
]
DELETE = [("3", "carol", 30.0, 4, "2024-01-02")]

COLUMNS = ("id", "name", "amount", "event_date")
EXPECTED_INITIAL = sorted((r[0], r[1], r[2], r[4]) for r in INITIAL)
EXPECTED_FINAL = sorted(
    [("1", "alice", 10.0, "2024-01-01"), ("2", "bob-v2", 25.0, "2024-01-01"), ("4", "dave", 40.0, "2024-01-02")]
)
EXPECTED_INCREMENTAL = [("2", "bob-v2", 25.0, "2024-01-01")]


class SmokeFailure(Exception):
    pass


def say(msg):
    print(f"hudi_smoke: {msg}", file=sys.stderr, flush=True)


def hudi_options(table_name, table_type):
    return {
        "hoodie.table.name": table_name,
        "hoodie.datasource.write.table.type": table_type,
        "hoodie.datasource.write.recordkey.field": "id",
        "hoodie.datasource.write.precombine.field": "updated_at",
        "hoodie.datasource.write.partitionpath.field": "event_date",
        "hoodie.datasource.write.hive_style_partitioning": "true",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.SimpleKeyGenerator",
        # Few rows: keep the write parallelism of a tiny table tiny.
        "hoodie.upsert.shuffle.parallelism": "2",
        "hoodie.insert.shuffle.parallelism": "2",
        "hoodie.delete.shuffle.parallelism": "2",
    }


def write(spark, rows, path, options, operation, mode="append"):
    df = spark.createDataFrame(rows, SCHEMA)
    df.write.format("hudi").options(**options).option("hoodie.datasource.write.operation", operation).mode(
        mode
    ).save(path)


def read(spark, path, query_type, **extra):
    reader = spark.read.format("hudi").option("hoodie.datasource.query.type", query_type)
    for key, value in extra.items():
        reader = reader.option(key, value)
    rows = reader.load(path).select(*COLUMNS).collect()
    return sorted(tuple(r) for r in rows)


def check(label, got, expected):
    if got != expected:
        raise SmokeFailure(f"{label}: expected {expected}, read {got}")
    say(f"{label}: read {len(got)} rows as expected: {[r[0] + '=' + r[1] for r in got]}")


def hadoop_fs(spark, path):
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath


def timeline(spark, path):
    """Completed commit/deltacommit instants on the active timeline, oldest first, as
    [(instant time, completion time, action)]. Reads the file names: .hoodie/<ts>.<action> (table
    version 6, Hudi 0.x, where the completion time is not recorded in the name: taken as the instant
    time) or .hoodie/timeline/<ts>_<completion ts>.<action> (table version 8, Hudi 1.x)."""
    fs, root = hadoop_fs(spark, path)
    jvm = spark.sparkContext._jvm
    found = []
    for folder in (".hoodie", ".hoodie/timeline"):
        meta = jvm.org.apache.hadoop.fs.Path(root, folder)
        if not fs.exists(meta):
            continue
        for status in fs.listStatus(meta):
            m = re.fullmatch(r"(\d+)(?:_(\d+))?\.(commit|deltacommit)", status.getPath().getName())
            if m:
                found.append((m.group(1), m.group(2) or m.group(1), m.group(3)))
    return sorted(found)


def data_files(spark, path):
    """(base parquet files, log files) under the table's partitions."""
    fs, root = hadoop_fs(spark, path)
    it = fs.listFiles(root, True)
    base, logs = 0, 0
    while it.hasNext():
        p = it.next().getPath().toString()
        if "/.hoodie/" in p:
            continue
        name = p.rsplit("/", 1)[-1]
        if name.endswith(".parquet"):
            base += 1
        elif ".log." in name:
            logs += 1
    return base, logs


def smoke_table(spark, base_path, run_id, table_type):
    short = "cow" if table_type == "COPY_ON_WRITE" else "mor"
    path = f"{base_path}/{short}"
    opts = hudi_options(f"hudi_smoke_{short}_{run_id}".replace("-", "_"), table_type)
    result = {"path": path, "table_type": table_type}
    t0 = time.monotonic()

    write(spark, INITIAL, path, opts, "upsert", mode="overwrite")
    say(f"{short}: wrote {len(INITIAL)} rows to {path}")
    check(f"{short} snapshot after insert", read(spark, path, "snapshot"), EXPECTED_INITIAL)
    # Hudi 0.x incremental reads return commits whose instant time is > begin. (Hudi 1.x changed
    # this to completion time >= begin, so a port to 1.x must move the checkpoint past it.)
    first_instant = timeline(spark, path)[-1][0]

    write(spark, UPSERT, path, opts, "upsert")
    say(f"{short}: upserted id 2 (2 versions in one batch, precombine on updated_at)")
    write(spark, DELETE, path, opts, "delete")
    say(f"{short}: deleted id 3")

    final = read(spark, path, "snapshot")
    check(f"{short} snapshot after upsert+delete", final, EXPECTED_FINAL)
    result["snapshot_rows"] = len(final)

    if table_type == "COPY_ON_WRITE":
        incremental = read(
            spark,
            path,
            "incremental",
            **{"hoodie.datasource.read.begin.instanttime": first_instant},
        )
        check(f"{short} incremental since {first_instant}", incremental, EXPECTED_INCREMENTAL)
        result["incremental_rows"] = len(incremental)
    else:
        ro = read(spark, path, "read_optimized")
        check(f"{short} read_optimized (base files only, before compaction)", ro, EXPECTED_INITIAL)
        result["read_optimized_rows"] = len(ro)

    instants = timeline(spark, path)
    base_files, log_files = data_files(spark, path)
    want_action = "commit" if table_type == "COPY_ON_WRITE" else "deltacommit"
    if [action for _, _, action in instants] != [want_action] * 3:
        raise SmokeFailure(f"{short}: expected 3 completed {want_action} instants, found {instants}")
    if table_type == "MERGE_ON_READ" and log_files == 0:
        raise SmokeFailure(f"{short}: the upsert and delete left no log files; they should not rewrite base files")
    result.update(
        instants=[ts for ts, _, _ in instants],
        base_files=base_files,
        log_files=log_files,
        seconds=round(time.monotonic() - t0, 1),
    )
    say(f"{short}: timeline {[ts + '.' + action for ts, _, action in instants]}; {base_files} base files, {log_files} log files")
    return result


def java_root_cause(exc):
    """The innermost Java exception message of a Py4J error, else str(exc)."""
    java_exc = getattr(exc, "java_exception", None)
    if java_exc is None:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
    cause = java_exc
    while cause.getCause() is not None and cause.getCause() != cause:
        cause = cause.getCause()
    return f"{cause.getClass().getName()}: {cause.getMessage()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-id", default=datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6])
    parser.add_argument("--base-path", help="table folder (default s3a://$DANAU_PROCESSED_BUCKET/_smoke/hudi_smoke_<run id>)")
    parser.add_argument("--cleanup", action="store_true", help="delete the tables after a passing run")
    args = parser.parse_args()

    bucket = os.environ.get("DANAU_PROCESSED_BUCKET", "danau-processed")
    base_path = args.base_path or f"s3a://{bucket}/_smoke/hudi_smoke_{args.run_id}"
    summary = {"ok": False, "run_id": args.run_id, "base_path": base_path, "endpoint": os.environ.get("DANAU_S3_ENDPOINT", "")}
    started = time.monotonic()
    spark = None
    try:
        spark = SparkSession.builder.appName("danau-hudi-smoke").getOrCreate()
        spark.sparkContext.setLogLevel(os.environ.get("DANAU_SPARK_LOG_LEVEL", "WARN"))
        summary["spark"] = spark.version
        summary["hudi"] = spark.sparkContext._jvm.org.apache.hudi.common.util.ReflectionUtils.getClass(
            "org.apache.hudi.DefaultSource"
        ).getPackage().getImplementationVersion()
        summary["java"] = spark.sparkContext._jvm.java.lang.System.getProperty("java.version")

        # Fail early, with a plain message, when the store or the bucket is not there.
        fs, root = hadoop_fs(spark, base_path.rsplit("/_smoke/", 1)[0] + "/")
        try:
            fs.listStatus(root)
        except Exception as exc:  # noqa: BLE001 - Py4J wraps every Java exception
            raise SmokeFailure(f"cannot list {root.toString()} at {summary['endpoint'] or 'AWS S3'}: {java_root_cause(exc)}")

        summary["cow"] = smoke_table(spark, base_path, args.run_id, "COPY_ON_WRITE")
        summary["mor"] = smoke_table(spark, base_path, args.run_id, "MERGE_ON_READ")
        summary["ok"] = True
        if args.cleanup:
            fs, root = hadoop_fs(spark, base_path)
            fs.delete(root, True)
            summary["cleaned_up"] = True
    except SmokeFailure as exc:
        summary["error"] = str(exc)
    except Exception as exc:  # noqa: BLE001
        summary["error"] = java_root_cause(exc)
    finally:
        summary["seconds"] = round(time.monotonic() - started, 1)
        if spark is not None:
            spark.stop()
    if not summary["ok"]:
        say(f"FAILED: {summary['error']}")
    print(json.dumps(summary, sort_keys=True), flush=True)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
