"""The lake job: raw DMS files -> Hudi tables in the processed zone, and queries over those tables.

The same file runs as an EMR step in production and with `scripts/spark/submit.sh` (spark-submit
--master local[*]) on one machine. Every input comes from a JSON spec the caller writes to S3 (EMR
step arguments are short and visible to anyone who can list steps); every figure goes back as a JSON
result object in S3 (EMR keeps a step's stdout in its log bucket, minutes later), and is also the
last line of stdout.

    lake_job.py upsert --spec s3://…/spec.json
    lake_job.py query  --spec s3://…/spec.json
    lake_job.py export --spec s3://…/spec.json

upsert: reads exactly the files in the spec; casts each column to its lake type (a value that does
not cast sends its row to quarantine, with the reason); turns timestamps into the platform's time
zone (WIB by default); derives the daily partition `dt`; keeps, per key, the latest change in the
batch by change sequence; drops changes that are not newer than what the table already holds (the
ordering guard: Hudi's payloads are latest-write-wins across batches, so an old file arriving late
would otherwise overwrite a newer row) and writes them to the stale record; applies `Op = D` as a
delete in the partition the row lives in; moves a row whose partition changed (non-global index);
stamps the commit with the batch id, and skips a batch that the timeline shows as applied already.

query: registers each table as a view under the name Glue gives it (`<name>`; for MERGE_ON_READ
`<name>_rt` and the read-optimized `<name>_ro`), optionally an incremental view `<name>_changes` of the commits after an
instant, runs one SQL statement and returns its rows. An incremental start older than what the
cleaner keeps is reported (`startCleaned`) instead of silently returning less (apache/hudi#2224).
"""

import argparse
import json
import sys
import time

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

OP, COMMIT_TS, CHANGE_SEQ = "Op", "dms_commit_ts", "dms_change_seq"
# Columns the job adds to every Hudi table, beside the source's own.
META_OP, META_TS, META_SEQ, META_BATCH = "_danau_op", "_danau_commit_ts", "_danau_change_seq", "_danau_batch_id"
PARTITION = "dt"
BATCH_KEY = "danau.batch.id"
COMPLETED_SUFFIXES = (".commit", ".deltacommit", ".replacecommit")


def log(message):
    print(f"lake_job: {message}", file=sys.stderr, flush=True)


# --- storage helpers (Hadoop FileSystem, so s3://, s3a:// and file:// all work) -----------------

def _fs(spark, uri):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def read_text(spark, uri):
    fs, path = _fs(spark, uri)
    stream = fs.open(path)
    try:
        jvm = spark.sparkContext._jvm
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def write_text(spark, uri, text):
    fs, path = _fs(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def exists(spark, uri):
    fs, path = _fs(spark, uri)
    return fs.exists(path)


# --- the Hudi timeline ---------------------------------------------------------------------------

def completed_instants(spark, base_path):
    """Completed write instants on the active timeline, oldest first: [(instant, file name)]."""
    timeline = f"{base_path.rstrip('/')}/.hoodie"
    if not exists(spark, timeline):
        return []
    fs, path = _fs(spark, timeline)
    names = [s.getPath().getName() for s in fs.listStatus(path)]
    found = []
    for name in names:
        for suffix in COMPLETED_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)].isdigit():
                found.append((name[: -len(suffix)], name))
    return sorted(found)


def instant_of_batch(spark, base_path, batch_id, look_back=200):
    """The instant whose commit metadata carries this batch id, or None (newest instants first)."""
    timeline = f"{base_path.rstrip('/')}/.hoodie"
    for instant, name in reversed(completed_instants(spark, base_path)[-look_back:]):
        try:
            meta = json.loads(read_text(spark, f"{timeline}/{name}") or "{}")
        except ValueError:
            continue  # not JSON (e.g. an empty or Avro-encoded instant): not one of ours
        if (meta.get("extraMetadata") or {}).get(BATCH_KEY) == batch_id:
            return instant
    return None


# --- upsert ---------------------------------------------------------------------------------------

def hudi_options(spec):
    table_type = spec["tableType"]
    retained = int(spec["cleanerCommitsRetained"])
    key = spec["primaryKey"]
    opts = {
        "hoodie.table.name": spec["hudiTableName"],
        "hoodie.datasource.write.table.type": table_type,
        "hoodie.datasource.write.operation": "upsert",
        "hoodie.datasource.write.recordkey.field": ",".join(key),
        "hoodie.datasource.write.precombine.field": spec["precombineField"],
        "hoodie.datasource.write.partitionpath.field": PARTITION,
        "hoodie.datasource.write.hive_style_partitioning": "true",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.ComplexKeyGenerator"
        if len(key) > 1
        else "org.apache.hudi.keygen.SimpleKeyGenerator",
        # The ordering guard below has already dropped every change that is not newer than the
        # stored row, so what reaches Hudi must win: overwrite, never compare precombine values
        # (an application's updated_at can go backwards; the change sequence cannot).
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.OverwriteWithLatestAvroPayload",
        "hoodie.index.type": spec["indexType"],
        "hoodie.bloom.index.update.partition.path": "true",
        "hoodie.cleaner.policy": "KEEP_LATEST_COMMITS",
        "hoodie.cleaner.commits.retained": str(retained),
        "hoodie.clean.automatic": "true",
        # The archiver must keep more instants than the cleaner retains.
        "hoodie.keep.min.commits": str(retained + 5),
        "hoodie.keep.max.commits": str(retained + 10),
        "hoodie.datasource.write.commitmeta.key.prefix": "danau.",
        BATCH_KEY: spec["batchId"],
        "hoodie.upsert.shuffle.parallelism": "4",
        "hoodie.insert.shuffle.parallelism": "4",
        "hoodie.delete.shuffle.parallelism": "4",
    }
    if table_type == "MERGE_ON_READ":
        opts.update(
            {
                "hoodie.compact.inline": "true",
                "hoodie.compact.inline.max.delta.commits": str(int(spec["compactionDeltaCommits"])),
            }
        )
    catalog = spec.get("catalog")
    if catalog and catalog.get("type") == "glue":
        # On EMR the Hive metastore client is the Glue Data Catalog; hms mode syncs through it and
        # creates <table> (CoW) or <table>_ro and <table>_rt (MoR) for Athena.
        opts.update(
            {
                "hoodie.datasource.hive_sync.enable": "true",
                "hoodie.datasource.hive_sync.mode": "hms",
                "hoodie.datasource.hive_sync.database": catalog["database"],
                "hoodie.datasource.hive_sync.table": spec["hudiTableName"],
                "hoodie.datasource.hive_sync.partition_fields": PARTITION,
                "hoodie.datasource.hive_sync.partition_extractor_class": "org.apache.hudi.hive.MultiPartKeysValueExtractor",
                "hoodie.datasource.hive_sync.support_timestamp": "true",
            }
        )
    return opts


def changelog_options(spec):
    """The change log beside each table: every change, keyed by (primary key, change sequence).

    A Hudi table holds one row per key, and a batch keeps only each key's latest change, so the
    history between two reads (three updates of one key in one window; a late change) would be gone.
    Warehouse models with SCD type 2 need every version: they pull from this table instead. Upserting
    by (key, change sequence) makes a re-applied batch a no-op.
    """
    retained = int(spec["cleanerCommitsRetained"])
    return {
        "hoodie.table.name": f"{spec['hudiTableName']}_changelog",
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
        "hoodie.datasource.write.operation": "upsert",
        "hoodie.datasource.write.recordkey.field": ",".join(spec["primaryKey"] + [META_SEQ]),
        "hoodie.datasource.write.precombine.field": META_SEQ,
        "hoodie.datasource.write.partitionpath.field": PARTITION,
        "hoodie.datasource.write.hive_style_partitioning": "true",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.ComplexKeyGenerator",
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.OverwriteWithLatestAvroPayload",
        "hoodie.index.type": "BLOOM",
        "hoodie.cleaner.policy": "KEEP_LATEST_COMMITS",
        "hoodie.cleaner.commits.retained": str(retained),
        "hoodie.keep.min.commits": str(retained + 5),
        "hoodie.keep.max.commits": str(retained + 10),
        "hoodie.datasource.write.commitmeta.key.prefix": "danau.",
        BATCH_KEY: spec["batchId"],
        "hoodie.upsert.shuffle.parallelism": "4",
    }


def write_changelog(spark, spec, changes):
    out_cols = [c["name"] for c in spec["columns"]]
    shaped = changes.select(
        *[F.col(f"`{n}`") for n in out_cols],
        F.col(OP).alias(META_OP),
        F.col(COMMIT_TS).alias(META_TS),
        F.col(CHANGE_SEQ).alias(META_SEQ),
        F.lit(spec["batchId"]).alias(META_BATCH),
        # A key-only delete has no partition field value: keep it, in a partition of its own.
        F.coalesce(F.col(PARTITION), F.lit("unknown")).alias(PARTITION),
    )
    if shaped.limit(1).count() == 0:
        return None
    base = spec["changelogBasePath"].rstrip("/")
    shaped.write.format("hudi").options(**changelog_options(spec)).mode("append").save(base)
    instant = instant_of_batch(spark, base, spec["batchId"])
    if instant is None:
        raise RuntimeError(f"batch {spec['batchId']}: the change log write finished but no completed instant carries its id")
    return instant


def read_batch(spark, spec):
    raw = spark.read.option("mergeSchema", "true").parquet(*spec["files"]).withColumn("_danau_file", F.input_file_name())
    present = set(raw.columns)
    # DMS writes full-load files without Op unless told to (IncludeOpForFullLoad), and leaves the
    # change sequence empty there: a full-load row is an insert older than any change.
    if OP not in present:
        raw = raw.withColumn(OP, F.lit("I"))
    for name in (COMMIT_TS, CHANGE_SEQ):
        if name not in present:
            raw = raw.withColumn(name, F.lit(""))
    return raw.withColumn(CHANGE_SEQ, F.coalesce(F.col(CHANGE_SEQ), F.lit(""))).withColumn(COMMIT_TS, F.coalesce(F.col(COMMIT_TS), F.lit("")))


def typed(raw, spec):
    """Casts to lake types; rows with a value that does not cast get `_danau_error` naming it."""
    present = set(raw.columns)
    errors, selects = [], []
    for c in spec["columns"]:
        name, lake_type = c["name"], c["lakeType"]
        source = F.col(f"`{name}`") if name in present else F.lit(None)
        cast = source.cast(lake_type)
        errors.append(
            F.when(
                source.isNotNull() & cast.isNull(),
                F.concat(F.lit(f"column {name}: value "), F.substring(source.cast("string"), 1, 80), F.lit(f" is not a {lake_type}")),
            )
        )
        selects.append(cast.alias(name))
    return raw.select(
        F.col(OP),
        F.col(COMMIT_TS),
        F.col(CHANGE_SEQ),
        F.col("_danau_file"),
        *selects,
        F.concat_ws("; ", *errors).alias("_danau_error"),
    )


def to_platform_time(df, spec):
    tz = spec["timezone"]
    for c in spec["columns"]:
        if c["lakeType"] == "timestamp":
            df = df.withColumn(c["name"], F.from_utc_timestamp(F.col(f"`{c['name']}`"), tz))
    part = next(c for c in spec["columns"] if c["name"] == spec["partitionField"])
    source = F.col(f"`{spec['partitionField']}`")
    # Timestamps are already in platform time here; dates have no zone.
    day = F.date_format(source, "yyyy-MM-dd") if part["lakeType"] in ("timestamp", "date") else source.cast("string")
    return df.withColumn(PARTITION, day)


def latest_per_key(df, key):
    w = Window.partitionBy(*[F.col(f"`{k}`") for k in key]).orderBy(F.col(CHANGE_SEQ).desc(), F.col(COMMIT_TS).desc())
    return df.withColumn("_rank", F.row_number().over(w)).filter("_rank = 1").drop("_rank")


def run_upsert(spark, spec):
    started = time.time()
    base = spec["basePath"].rstrip("/")
    batch = spec["batchId"]
    key = spec["primaryKey"]
    changelog = spec.get("changelogBasePath")
    # The change log is written first and the table second, each skipped when its timeline already
    # has the batch: a job killed between the two finishes the second on the next attempt.
    done = instant_of_batch(spark, base, batch)
    changelog_done = instant_of_batch(spark, changelog, batch) if changelog else None
    applied = {"batchId": batch, "instant": done, "changelogInstant": changelog_done, "alreadyApplied": True, "rowsRead": 0, "rowsUpserted": 0, "rowsDeleted": 0, "rowsStale": 0, "rowsDuplicate": 0, "rowsQuarantined": 0, "rowsMoved": 0}
    if done and (changelog_done or not changelog):
        log(f"batch {batch} is already in the timeline at {done}: nothing to do")
        return {**applied, "seconds": round(time.time() - started, 3)}

    raw = read_batch(spark, spec)
    rows = to_platform_time(typed(raw, spec), spec).persist()
    # Counted in one pass: every action re-runs the plan it stands on, and a Spark job costs seconds.
    tally = rows.agg(F.count(F.lit(1)).alias("read"), F.sum(F.when(F.col("_danau_error") != "", 1).otherwise(0)).alias("bad")).first()
    rows_read, quarantined = int(tally["read"]), int(tally["bad"] or 0)
    if changelog and not changelog_done:
        changelog_done = write_changelog(spark, spec, rows.filter(F.col("_danau_error") == ""))
    if done:
        return {**applied, "changelogInstant": changelog_done, "seconds": round(time.time() - started, 3)}

    bad = rows.filter(F.col("_danau_error") != "")
    if quarantined:
        bad.select(*[F.col(f"`{k}`").cast("string").alias(k) for k in key], F.col(OP), F.col(CHANGE_SEQ), F.col("_danau_file"), F.col("_danau_error")).write.mode("overwrite").json(spec["quarantineUri"])
        log(f"{quarantined} row(s) quarantined to {spec['quarantineUri']}")
    good = latest_per_key(rows.filter(F.col("_danau_error") == ""), key)

    # A table whose first write was killed has .hoodie/ but no completed commit, and reads as an
    # empty relation without columns: it holds no rows yet (the next write rolls the failed one back).
    if completed_instants(spark, base):
        stored = spark.read.format("hudi").load(base).select(
            *[F.col(f"`{k}`") for k in key],
            # Hive-style partition paths are `dt=<value>`; the key generator wants the value.
            F.regexp_replace(F.col("_hoodie_partition_path"), f"^{PARTITION}=", "").alias("_old_partition"),
            F.col(META_SEQ).alias("_old_seq"),
            F.col(f"`{spec['precombineField']}`").alias("_old_precombine"),
        )
        joined = good.join(stored, on=key, how="left")
    else:
        joined = good.withColumn("_old_partition", F.lit(None).cast("string")).withColumn("_old_seq", F.lit(None).cast("string")).withColumn("_old_precombine", F.lit(None))
    joined = joined.persist()

    # The ordering guard. The change sequence is strictly increasing within a table, so a change
    # at or before the stored row's is old news: equal means this very change was applied already.
    known = F.col("_old_seq").isNotNull()
    duplicate = known & (F.col(CHANGE_SEQ) == F.col("_old_seq"))
    stale = known & (F.col(CHANGE_SEQ) < F.col("_old_seq"))
    stale_rows = joined.filter(stale)
    fresh_flag = ~(stale | duplicate)
    moves = spec["indexType"] == "BLOOM"
    counts = joined.agg(
        F.sum(F.when(stale, 1).otherwise(0)).alias("stale"),
        F.sum(F.when(duplicate, 1).otherwise(0)).alias("duplicate"),
        F.sum(F.when(fresh_flag & (F.col(OP) != "D"), 1).otherwise(0)).alias("upserts"),
        F.sum(F.when(fresh_flag & (F.col(OP) == "D") & known, 1).otherwise(0)).alias("deletes"),
        F.sum(F.when(F.lit(moves) & fresh_flag & (F.col(OP) != "D") & known & (F.col("_old_partition") != F.col(PARTITION)), 1).otherwise(0)).alias("moved"),
    ).first()
    rows_stale, rows_duplicate = int(counts["stale"] or 0), int(counts["duplicate"] or 0)
    rows_upserted, rows_deleted, rows_moved = int(counts["upserts"] or 0), int(counts["deletes"] or 0), int(counts["moved"] or 0)
    if rows_stale:
        stale_rows.select(*[F.col(f"`{k}`").cast("string").alias(k) for k in key], F.col(OP), F.col(CHANGE_SEQ).alias("change_seq"), F.col("_old_seq").alias("stored_change_seq"), F.col("_danau_file"),
                          F.lit("an older change than the stored row (ordering guard)").alias("reason")).write.mode("overwrite").json(spec["staleUri"])
        log(f"{rows_stale} stale change(s) set aside in {spec['staleUri']}")
    fresh = joined.filter(~(stale | duplicate))

    # A delete applies where the row lives; a delete of a key the table never had is a no-op.
    # A key-only delete (PostgreSQL's default replica identity) has no precombine value: use the stored one.
    deletes = fresh.filter((F.col(OP) == "D") & known).withColumn(PARTITION, F.col("_old_partition"))
    upserts = fresh.filter(F.col(OP) != "D")
    # With a non-global index Hudi finds a key only in the partition it is written to: a row whose
    # partition changed is deleted from the old one in the same commit.
    moved = upserts.filter(known & (F.col("_old_partition") != F.col(PARTITION))) if moves else upserts.limit(0)
    moved_deletes = moved.withColumn(PARTITION, F.col("_old_partition"))

    precombine = spec["precombineField"]
    out_cols = [c["name"] for c in spec["columns"]]

    def shape(df, is_deleted):
        return df.select(
            *[F.col(f"`{n}`") for n in out_cols if n != precombine],
            F.coalesce(F.col(f"`{precombine}`"), F.col("_old_precombine").cast(dict((c["name"], c["lakeType"]) for c in spec["columns"])[precombine])).alias(precombine),
            F.col(OP).alias(META_OP),
            F.col(COMMIT_TS).alias(META_TS),
            F.col(CHANGE_SEQ).alias(META_SEQ),
            F.lit(spec["batchId"]).alias(META_BATCH),
            F.col(PARTITION),
            F.lit(is_deleted).alias("_hoodie_is_deleted"),
        ).select(*out_cols, META_OP, META_TS, META_SEQ, META_BATCH, PARTITION, "_hoodie_is_deleted")

    to_write = shape(upserts, False).unionByName(shape(deletes, True)).unionByName(shape(moved_deletes, True))
    instant = None
    if rows_upserted + rows_deleted + rows_moved > 0:
        to_write.write.format("hudi").options(**hudi_options(spec)).mode("append").save(base)
        instant = instant_of_batch(spark, base, batch)
        if instant is None:
            raise RuntimeError(f"batch {batch}: the write finished but no completed instant carries its id")
    else:
        log(f"batch {batch}: nothing newer than the table holds; no commit")
    return {
        "batchId": batch,
        "instant": instant,
        "changelogInstant": changelog_done,
        "alreadyApplied": False,
        "rowsRead": rows_read,
        "rowsUpserted": rows_upserted,
        "rowsDeleted": rows_deleted,
        "rowsStale": rows_stale,
        "rowsDuplicate": rows_duplicate,
        "rowsQuarantined": quarantined,
        "rowsMoved": rows_moved,
        "seconds": round(time.time() - started, 3),
    }


# --- query ----------------------------------------------------------------------------------------

def register_views(spark, table):
    name, base = table["name"], table["basePath"].rstrip("/")
    # The names Hive sync gives the tables in Glue, so the same SQL runs on Athena: a CoW table under
    # its own name, a MoR table only as <name>_rt (snapshot) and <name>_ro (read-optimized).
    if table.get("tableType") != "MERGE_ON_READ":
        spark.read.format("hudi").load(base).createOrReplaceTempView(name)
    else:
        spark.read.format("hudi").load(base).createOrReplaceTempView(f"{name}_rt")
        spark.read.format("hudi").option("hoodie.datasource.query.type", "read_optimized").load(base).createOrReplaceTempView(f"{name}_ro")
    incremental = table.get("incremental")
    if not incremental:
        return None
    begin = incremental["beginInstant"]
    instants = [i for i, _ in completed_instants(spark, base)]
    retained = int(table.get("cleanerCommitsRetained", 15))
    # KEEP_LATEST_COMMITS keeps the file versions the last `retained` commits wrote; an incremental
    # pull from before the oldest of those may be missing changes whose files were cleaned.
    earliest_safe = instants[-retained] if len(instants) >= retained else (instants[0] if instants else None)
    cleaned = begin not in ("", "000") and earliest_safe is not None and begin < earliest_safe and begin not in instants[-retained:]
    if cleaned and incremental.get("onCleaned", "fail") == "fail":
        raise RuntimeError(
            f"table {name}: incremental pull from {begin} is no longer possible: the cleaner keeps the last {retained} commits "
            f"(oldest {earliest_safe}); do a full comparison instead"
        )
    reader = spark.read.format("hudi")
    end = None
    if cleaned:
        changes = reader.load(base)  # the whole table, for a full comparison
    else:
        reader = reader.option("hoodie.datasource.query.type", "incremental").option("hoodie.datasource.read.begin.instanttime", begin or "000")
        # Pinned to the newest instant listed above, so a commit landing meanwhile is left for the
        # next pull whole, rather than half read now.
        end = incremental.get("endInstant") or (instants[-1] if instants else None)
        if end:
            reader = reader.option("hoodie.datasource.read.end.instanttime", end)
        changes = reader.load(base)
    if cleaned:
        end = instants[-1] if instants else None
    changes.createOrReplaceTempView(f"{name}_changes")
    return {"table": name, "beginInstant": begin, "endInstant": end, "startCleaned": cleaned, "fallback": "full-scan" if cleaned else None, "latestInstant": instants[-1] if instants else None, "earliestSafeInstant": earliest_safe}


def run_query(spark, spec):
    started = time.time()
    incremental = [r for r in (register_views(spark, t) for t in spec["tables"]) if r]
    df = spark.sql(spec["sql"])
    limit = int(spec.get("maxRows", 10000))
    rows = [json.loads(r) for r in df.limit(limit + 1).toJSON().collect()]
    return {"columns": df.columns, "rows": rows[:limit], "truncated": len(rows) > limit, "incremental": incremental, "seconds": round(time.time() - started, 3)}


def run_export(spark, spec):
    """A model's pull: the change log's changes after an instant, written as Parquet for the warehouse
    to load (COPY on Redshift, a bulk load on PostgreSQL). A start the cleaner has passed falls back to
    the whole change log, which still holds every change (its records are never updated), and says so."""
    started = time.time()
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    table = {**spec["table"], "tableType": "COPY_ON_WRITE", "incremental": {"beginInstant": spec["beginInstant"], "onCleaned": "full"}}
    if not completed_instants(spark, table["basePath"]):
        return {"rows": 0, "outputUri": None, "incremental": {"table": table["name"], "beginInstant": spec["beginInstant"], "endInstant": None, "startCleaned": False, "fallback": None}, "seconds": round(time.time() - started, 3)}
    info = register_views(spark, table)
    columns = [F.col(f"`{c}`") for c in spec["columns"]] + [F.col(META_OP), F.col(META_SEQ), F.col(META_TS)]
    changes = spark.table(f"{table['name']}_changes").select(*columns).persist()
    rows = changes.count()
    if rows:
        changes.coalesce(1).write.mode("overwrite").parquet(spec["outputUri"])
    return {"rows": rows, "outputUri": spec["outputUri"] if rows else None, "incremental": info, "seconds": round(time.time() - started, 3)}


def main(argv):
    parser = argparse.ArgumentParser(description="Danau lake job")
    parser.add_argument("command", choices=["upsert", "query", "export"])
    parser.add_argument("--spec", required=True, help="URI of the JSON spec")
    args = parser.parse_args(argv)
    spark = SparkSession.builder.appName(f"danau-lake-{args.command}").getOrCreate()
    spec = json.loads(read_text(spark, args.spec))
    try:
        result = {"upsert": run_upsert, "query": run_query, "export": run_export}[args.command](spark, spec)
        result["ok"] = True
    except Exception as err:  # reported in the result object, then the step fails
        result = {"ok": False, "error": f"{type(err).__name__}: {err}"[:4000]}
        write_text(spark, spec["resultUri"], json.dumps(result))
        print(json.dumps(result), flush=True)
        raise
    write_text(spark, spec["resultUri"], json.dumps(result, default=str))
    print(json.dumps(result, default=str), flush=True)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
