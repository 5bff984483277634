"""The lake job: raw DMS files -> Hudi tables in the processed zone, and queries over those tables.

The same file runs as an EMR step in production and with `scripts/spark/submit.sh` (spark-submit
--master local[*]) on one machine. Every input comes from a JSON spec the caller writes to S3 (EMR
step arguments are short and visible to anyone who can list steps); every figure goes back as a JSON
result object in S3 (EMR keeps a step's stdout in its log bucket, minutes later), and is also the
last line of stdout.

    lake_job.py upsert --spec s3://…/spec.json
    lake_job.py replay --spec s3://…/spec.json
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

upsert with `reapply: true` (a backfill re-running a date range after a fix to the table's definition
or to this job): the same path, except that a change whose change sequence EQUALS the stored row's is
applied again when the row it makes now differs from the stored one (compared in the current lake
types), and left alone when it does not; changes older than the stored row are counted as superseded,
not set aside as stale (the row moved on after the range: expected in a backfill). The change log gets
only the changes it lacks or now holds differently, a rewritten one in the partition it already
lives in, so (key, change sequence) stays unique there and a model's pull sees only what changed.

replay: the rows an upsert set aside (one failed event: `kind` quarantine or stale, at `setAsideUri`)
through the same path again (apply_changes), with the lake types the control plane holds now. It reads
only the raw files the set-aside rows name (`_danau_file`), and of those exactly the set-aside rows
(same file, change sequence and key); what is still set aside (does not cast, older than the stored
row, not found) goes to `stillSetAsideUri` in the format of the rows replayed. The commit carries the
replay's batch id and its figures, so a replay submitted twice is applied once and reported alike.

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
from pyspark.sql.types import StringType, StructField, StructType

OP, COMMIT_TS, CHANGE_SEQ = "Op", "dms_commit_ts", "dms_change_seq"
# Columns the job adds to every Hudi table, beside the source's own.
META_OP, META_TS, META_SEQ, META_BATCH = "_danau_op", "_danau_commit_ts", "_danau_change_seq", "_danau_batch_id"
PARTITION = "dt"
BATCH_KEY = "danau.batch.id"
# A replay's figures, in its commit's metadata: a rerun that finds the commit reports them.
FIGURES_KEY = "danau.figures"
# Raw key values carried beside the typed ones while a replay picks its rows.
RAW_KEY = "_danau_rawkey_"
STALE_REASON = "an older change than the stored row (ordering guard)"
EMPTY_REPLAY = {"instant": None, "changelogInstant": None, "alreadyApplied": False, "rowsRead": 0, "rowsUpserted": 0, "rowsReapplied": 0, "rowsDeleted": 0, "rowsStale": 0, "rowsDuplicate": 0, "rowsQuarantined": 0, "rowsMoved": 0}
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


def commit_of_batch(spark, base_path, batch_id, look_back=200):
    """(instant, extra metadata) of the commit that carries this batch id, or (None, {}) (newest instants first)."""
    timeline = f"{base_path.rstrip('/')}/.hoodie"
    for instant, name in reversed(completed_instants(spark, base_path)[-look_back:]):
        try:
            meta = json.loads(read_text(spark, f"{timeline}/{name}") or "{}")
        except ValueError:
            continue  # not JSON (e.g. an empty or Avro-encoded instant): not one of ours
        extra = meta.get("extraMetadata") or {}
        if extra.get(BATCH_KEY) == batch_id:
            return instant, extra
    return None, {}


def instant_of_batch(spark, base_path, batch_id, look_back=200):
    """The instant whose commit metadata carries this batch id, or None."""
    return commit_of_batch(spark, base_path, batch_id, look_back)[0]


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


def to_lake_names(raw, spec):
    """Raw files keep the source's column names, as DMS writes them (`Dispensed By`); from here on each
    column goes by its lake name (`dispensed_by`), the one Hudi, Glue and the warehouse accept (issue 12).
    withColumnRenamed matches the name as is: spaces, dots and backticks need no quoting."""
    for c in spec["columns"]:
        source = c.get("sourceName", c["name"])
        if source != c["name"] and source in raw.columns:
            raw = raw.withColumnRenamed(source, c["name"])
    return raw


def read_batch(spark, spec, files=None, raw_keys=False):
    """The raw files (the spec's, or `files`) as one frame, with the file each row came from.

    raw_keys: also `_danau_rawkey_<i>`, each primary-key column's value as written in the raw file, as
    a string (a replay matches set-aside rows on it when the key's lake type changed since).
    """
    raw = spark.read.option("mergeSchema", "true").parquet(*(files if files is not None else spec["files"])).withColumn("_danau_file", F.input_file_name())
    raw = to_lake_names(raw, spec)
    present = set(raw.columns)
    # DMS writes full-load files without Op unless told to (IncludeOpForFullLoad), and leaves the
    # change sequence empty there: a full-load row is an insert older than any change.
    if OP not in present:
        raw = raw.withColumn(OP, F.lit("I"))
    for name in (COMMIT_TS, CHANGE_SEQ):
        if name not in present:
            raw = raw.withColumn(name, F.lit(""))
    if raw_keys:
        for i, k in enumerate(spec["primaryKey"]):
            raw = raw.withColumn(f"{RAW_KEY}{i}", F.col(f"`{k}`").cast("string") if k in present else F.lit(None).cast("string"))
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
        *[F.col(n) for n in raw.columns if n.startswith(RAW_KEY)],
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


def key_strings(key):
    """The primary-key columns as strings: how set-aside rows name their key."""
    return [F.col(f"`{k}`").cast("string").alias(k) for k in key]


def quarantine_rows(bad, key):
    return bad.select(*key_strings(key), F.col(OP), F.col(CHANGE_SEQ), F.col("_danau_file"), F.col("_danau_error"))


def stale_rows_of(stale, key):
    return stale.select(*key_strings(key), F.col(OP), F.col(CHANGE_SEQ).alias("change_seq"), F.col("_old_seq").alias("stored_change_seq"), F.col("_danau_file"), F.lit(STALE_REASON).alias("reason"))


def same_values(spec, prefix):
    """Every column of the change equals the stored one (`<prefix><i>`, spec column i) in the current
    lake type, NULL equal to NULL: a reapplied change that would not alter the row."""
    same = F.lit(True)
    for i, c in enumerate(spec["columns"]):
        same = same & F.col(f"`{c['name']}`").eqNullSafe(F.col(f"{prefix}{i}").cast(c["lakeType"]))
    return same


def stored_values(df, spec, prefix):
    """The spec's columns of a stored table as `<prefix><i>` (NULL for a column it does not have yet)."""
    present = set(df.columns)
    return [(F.col(f"`{c['name']}`") if c["name"] in present else F.lit(None)).alias(f"{prefix}{i}") for i, c in enumerate(spec["columns"])]


def changelog_changes_to_rewrite(spark, spec, changes):
    """A reapply's changes the change log lacks or holds with other values. A change it holds keeps
    the partition it is stored in (the change log's partition is storage only; a second copy of one
    (key, change sequence) in another partition would be a duplicate version for the models)."""
    key = spec["primaryKey"]
    stored = spark.read.format("hudi").load(spec["changelogBasePath"].rstrip("/"))
    held = stored.select(
        *[F.col(f"`{k}`").cast("string").alias(f"_cl_key_{i}") for i, k in enumerate(key)],
        F.col(META_SEQ).alias("_cl_seq"),
        F.col(META_OP).alias("_cl_op"),
        F.col(META_TS).alias("_cl_ts"),
        F.regexp_replace(F.col("_hoodie_partition_path"), f"^{PARTITION}=", "").alias("_cl_partition"),
        *stored_values(stored, spec, "_cl_col_"),
    ).dropDuplicates([f"_cl_key_{i}" for i in range(len(key))] + ["_cl_seq"])
    match = F.col(CHANGE_SEQ) == F.col("_cl_seq")
    for i, k in enumerate(key):
        match = match & F.col(f"`{k}`").cast("string").eqNullSafe(F.col(f"_cl_key_{i}"))
    joined = changes.join(held, match, "left")
    unchanged = F.col("_cl_seq").isNotNull() & F.col(OP).eqNullSafe(F.col("_cl_op")) & F.col(COMMIT_TS).eqNullSafe(F.col("_cl_ts")) & same_values(spec, "_cl_col_")
    return joined.filter(~unchanged).withColumn(PARTITION, F.coalesce(F.col("_cl_partition"), F.col(PARTITION))).drop(*held.columns)


# --- tombstones -----------------------------------------------------------------------------------
# A delete removes the key from the table, and with it the change sequence the ordering guard compares
# with: a change older than the delete arriving later (a late file, a replayed quarantined row) would
# bring the row back (issue 12, item 6). So each table has a small tombstone table beside it, keyed by
# the primary key, holding the change sequence of each key's last delete. It is read whole but stays
# small: a tombstone is lifted when a newer change brings the key back, and dropped once the table has
# committed `cleanerCommitsRetained` times after the delete (the cleaner's window; README, "Deletes
# and tombstones"). It is written before the table, like the change log: a rerun after a crash in
# between computes and writes the same tombstones again.

TOMB_SEQ = "_danau_tomb_seq"


def tombstone_options(spec):
    retained = int(spec["cleanerCommitsRetained"])
    return {
        "hoodie.table.name": f"{spec['hudiTableName']}_tombstones",
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
        "hoodie.datasource.write.operation": "upsert",
        "hoodie.datasource.write.recordkey.field": ",".join(spec["primaryKey"]),
        "hoodie.datasource.write.precombine.field": META_SEQ,
        "hoodie.datasource.write.partitionpath.field": "",
        "hoodie.datasource.write.keygenerator.class": "org.apache.hudi.keygen.NonpartitionedKeyGenerator",
        # Within one write the highest change sequence per key wins (a new tombstone over an expired one).
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.OverwriteWithLatestAvroPayload",
        "hoodie.index.type": "SIMPLE",
        "hoodie.cleaner.policy": "KEEP_LATEST_COMMITS",
        "hoodie.cleaner.commits.retained": str(retained),
        "hoodie.keep.min.commits": str(retained + 5),
        "hoodie.keep.max.commits": str(retained + 10),
        "hoodie.datasource.write.commitmeta.key.prefix": "danau.",
        BATCH_KEY: spec["batchId"],
        "hoodie.upsert.shuffle.parallelism": "2",
    }


def read_tombstones(spark, spec):
    """The tombstone table (key columns, TOMB_SEQ, `_hoodie_commit_time`), or None when it has none yet."""
    path = spec.get("tombstonesBasePath")
    if not path or not completed_instants(spark, path):
        return None
    stored = spark.read.format("hudi").load(path.rstrip("/"))
    return stored.select(*[F.col(f"`{k}`") for k in spec["primaryKey"]], F.col(META_SEQ).alias(TOMB_SEQ), F.col("_hoodie_commit_time"))


def with_tombstones(spark, spec, joined):
    """The batch's changes (one per key) with TOMB_SEQ: the key's last delete still remembered, or NULL.
    Only the batch's keys are looked up (a left join from the batch)."""
    tombstones = read_tombstones(spark, spec)
    if tombstones is None:
        return joined.withColumn(TOMB_SEQ, F.lit(None).cast("string"))
    return joined.join(tombstones.drop("_hoodie_commit_time"), on=spec["primaryKey"], how="left")


def tombstone_guard():
    """(stale, duplicate) for a change to a key the table no longer holds but remembers deleting: older
    than the delete is stale (set aside like any change older than the stored row), equal is that delete
    applied again."""
    gone = F.col("_old_seq").isNull() & F.col(TOMB_SEQ).isNotNull()
    return gone & (F.col(CHANGE_SEQ) < F.col(TOMB_SEQ)), gone & (F.col(CHANGE_SEQ) == F.col(TOMB_SEQ))


def expired_tombstones(spark, spec, tombstones):
    """Tombstones the table has committed `cleanerCommitsRetained` times since (the retention rule), as
    deletes for the tombstone table. A tombstone is written just before its batch's table commit, so it
    expires once a commit older than it is no longer among the last `retained` + 1."""
    retained = int(spec["cleanerCommitsRetained"])
    instants = [i for i, _ in completed_instants(spark, spec["basePath"])]
    if len(instants) <= retained:
        return None
    horizon = instants[-(retained + 1)]
    return tombstones.filter(F.col("_hoodie_commit_time") < F.lit(horizon)).drop("_hoodie_commit_time").withColumnRenamed(TOMB_SEQ, META_SEQ)


def write_tombstones(spark, spec, fresh):
    """Records the batch's deletes (applied ones and deletes of keys the table never had alike: an
    insert arriving after them is still older), lifts the tombstones of keys a newer change brings
    back, and drops the expired ones; one commit stamped with the batch id, none when nothing changes."""
    path = spec.get("tombstonesBasePath")
    if not path:
        return None
    key = [F.col(f"`{k}`") for k in spec["primaryKey"]]
    laid = fresh.filter(F.col(OP) == "D").select(*key, F.col(CHANGE_SEQ).alias(META_SEQ), F.lit(False).alias("_hoodie_is_deleted"))
    lifted = fresh.filter((F.col(OP) != "D") & F.col(TOMB_SEQ).isNotNull()).select(*key, F.col(CHANGE_SEQ).alias(META_SEQ), F.lit(True).alias("_hoodie_is_deleted"))
    to_write = laid.unionByName(lifted)
    tombstones = read_tombstones(spark, spec)
    expired = expired_tombstones(spark, spec, tombstones) if tombstones is not None else None
    if expired is not None:
        # A key the batch touches is decided above (its newer change wins), not by its old tombstone.
        to_write = to_write.unionByName(expired.join(fresh.select(*key), on=spec["primaryKey"], how="left_anti").withColumn("_hoodie_is_deleted", F.lit(True)))
    to_write = to_write.withColumn(META_BATCH, F.lit(spec["batchId"])).persist()
    if to_write.limit(1).count() == 0:
        return None
    base = path.rstrip("/")
    to_write.write.format("hudi").options(**tombstone_options(spec)).mode("append").save(base)
    counts = to_write.groupBy("_hoodie_is_deleted").count().collect()
    log(f"batch {spec['batchId']}: tombstones " + ", ".join(f"{'removed' if r[0] else 'recorded'} {r[1]}" for r in counts))
    return instant_of_batch(spark, base, spec["batchId"])


def apply_changes(spark, spec, rows, done, changelog_done, set_aside, changelog_only_new=False, commit_figures=None, reapply=False):
    """The path every change takes into a table, for upsert and replay alike.

    rows: typed and in platform time (typed(), to_platform_time()), persisted. done / changelog_done:
    the instants of the table and change log that already carry this batch id. Rows that do not cast
    and changes older than the stored row are handed to set_aside(bad, n_bad, stale, n_stale), once,
    before the table is written; the rest are deduplicated per key, guarded, and written as one Hudi
    commit stamped with the batch id (and, when commit_figures is given, with this batch's figures
    under danau.figures, so a rerun that finds the commit can report them).
    changelog_only_new: leave out changes the change log already holds (a replay of a stale change).
    reapply: a backfill's batch (see the module docstring): a change equal to the stored row's is
    applied again when the row it makes differs from the stored one; the change log gets only what
    it lacks or holds differently.
    """
    base = spec["basePath"].rstrip("/")
    batch = spec["batchId"]
    key = spec["primaryKey"]
    changelog = spec.get("changelogBasePath")
    applied = {"batchId": batch, "instant": done, "changelogInstant": changelog_done, "alreadyApplied": True, "rowsRead": 0, "rowsUpserted": 0, "rowsReapplied": 0, "rowsDeleted": 0, "rowsStale": 0, "rowsDuplicate": 0, "rowsQuarantined": 0, "rowsMoved": 0}
    # Counted in one pass: every action re-runs the plan it stands on, and a Spark job costs seconds.
    tally = rows.agg(F.count(F.lit(1)).alias("read"), F.sum(F.when(F.col("_danau_error") != "", 1).otherwise(0)).alias("bad")).first()
    rows_read, quarantined = int(tally["read"]), int(tally["bad"] or 0)
    if changelog and not changelog_done:
        changes = rows.filter(F.col("_danau_error") == "")
        if changelog_only_new and completed_instants(spark, changelog):
            held = spark.read.format("hudi").load(changelog.rstrip("/")).select(*[F.col(f"`{k}`").cast("string").alias(f"_cl_key_{i}") for i, k in enumerate(key)], F.col(META_SEQ).alias("_cl_seq"))
            same = F.col(CHANGE_SEQ) == F.col("_cl_seq")
            for i, k in enumerate(key):
                same = same & F.col(f"`{k}`").cast("string").eqNullSafe(F.col(f"_cl_key_{i}"))
            changes = changes.join(held, same, "left_anti")
        if reapply and completed_instants(spark, changelog):
            changes = changelog_changes_to_rewrite(spark, spec, changes)
        changelog_done = write_changelog(spark, spec, changes)
    if done:
        return {**applied, "changelogInstant": changelog_done}

    bad = rows.filter(F.col("_danau_error") != "")
    good = latest_per_key(rows.filter(F.col("_danau_error") == ""), key)

    # A table whose first write was killed has .hoodie/ but no completed commit, and reads as an
    # empty relation without columns: it holds no rows yet (the next write rolls the failed one back).
    if completed_instants(spark, base):
        stored_table = spark.read.format("hudi").load(base)
        stored = stored_table.select(
            *[F.col(f"`{k}`") for k in key],
            # Hive-style partition paths are `dt=<value>`; the key generator wants the value.
            F.regexp_replace(F.col("_hoodie_partition_path"), f"^{PARTITION}=", "").alias("_old_partition"),
            F.col(META_SEQ).alias("_old_seq"),
            F.col(f"`{spec['precombineField']}`").alias("_old_precombine"),
            # A reapply compares the row a change makes now with the stored one.
            *(stored_values(stored_table, spec, "_old_col_") if reapply else []),
        )
        joined = good.join(stored, on=key, how="left")
    else:
        joined = good.withColumn("_old_partition", F.lit(None).cast("string")).withColumn("_old_seq", F.lit(None).cast("string")).withColumn("_old_precombine", F.lit(None))
        if reapply:
            for i, _ in enumerate(spec["columns"]):
                joined = joined.withColumn(f"_old_col_{i}", F.lit(None))
    joined = with_tombstones(spark, spec, joined).persist()

    # The ordering guard. The change sequence is strictly increasing within a table, so a change
    # at or before the stored row's is old news: equal means this very change was applied already.
    # A reapply applies an equal one again when the row it makes now differs from the stored one.
    known = F.col("_old_seq").isNotNull()
    equal = known & (F.col(CHANGE_SEQ) == F.col("_old_seq"))
    if reapply:
        differs = ~(same_values(spec, "_old_col_") & F.col("_old_partition").eqNullSafe(F.col(PARTITION)))
        reapplied = equal & differs
        duplicate = equal & ~differs
    else:
        reapplied = F.lit(False)
        duplicate = equal
    tomb_stale, tomb_duplicate = tombstone_guard()
    duplicate = duplicate | tomb_duplicate
    stale = (known & (F.col(CHANGE_SEQ) < F.col("_old_seq"))) | tomb_stale
    # A change older than a remembered delete names the delete's change sequence as the stored one.
    stale_rows = joined.filter(stale).withColumn("_old_seq", F.coalesce(F.col("_old_seq"), F.col(TOMB_SEQ)))
    fresh_flag = ~(stale | duplicate)
    moves = spec["indexType"] == "BLOOM"
    counts = joined.agg(
        F.sum(F.when(stale, 1).otherwise(0)).alias("stale"),
        F.sum(F.when(duplicate, 1).otherwise(0)).alias("duplicate"),
        F.sum(F.when(fresh_flag & (F.col(OP) != "D"), 1).otherwise(0)).alias("upserts"),
        F.sum(F.when(fresh_flag & (F.col(OP) == "D") & known, 1).otherwise(0)).alias("deletes"),
        F.sum(F.when(F.lit(moves) & fresh_flag & (F.col(OP) != "D") & known & (F.col("_old_partition") != F.col(PARTITION)), 1).otherwise(0)).alias("moved"),
        F.sum(F.when(reapplied, 1).otherwise(0)).alias("reapplied"),
    ).first()
    rows_stale, rows_duplicate = int(counts["stale"] or 0), int(counts["duplicate"] or 0)
    rows_upserted, rows_deleted, rows_moved = int(counts["upserts"] or 0), int(counts["deletes"] or 0), int(counts["moved"] or 0)
    rows_reapplied = int(counts["reapplied"] or 0)
    # Set aside before the commit: a commit carrying the batch id implies its set-aside rows exist.
    set_aside(bad, quarantined, stale_rows, rows_stale)
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

    figures = {
        "batchId": batch,
        "changelogInstant": changelog_done,
        "alreadyApplied": False,
        "rowsRead": rows_read,
        "rowsUpserted": rows_upserted,
        "rowsReapplied": rows_reapplied,
        "rowsDeleted": rows_deleted,
        "rowsStale": rows_stale,
        "rowsDuplicate": rows_duplicate,
        "rowsQuarantined": quarantined,
        "rowsMoved": rows_moved,
    }
    to_write = shape(upserts, False).unionByName(shape(deletes, True)).unionByName(shape(moved_deletes, True))
    write_tombstones(spark, spec, fresh)
    instant = None
    if rows_upserted + rows_deleted + rows_moved > 0:
        options = hudi_options(spec)
        if commit_figures is not None:
            options[FIGURES_KEY] = json.dumps({**figures, **commit_figures}, default=str)
        to_write.write.format("hudi").options(**options).mode("append").save(base)
        instant = instant_of_batch(spark, base, batch)
        if instant is None:
            raise RuntimeError(f"batch {batch}: the write finished but no completed instant carries its id")
    else:
        log(f"batch {batch}: nothing newer than the table holds; no commit")
    return {**figures, "instant": instant}


def upsert_set_aside(spec):
    """Where an upsert puts what it sets aside: quarantined rows and stale changes, each in its own place
    (nothing is written for a kind it has none of)."""
    key = spec["primaryKey"]

    def set_aside(bad, quarantined, stale, rows_stale):
        if quarantined:
            quarantine_rows(bad, key).write.mode("overwrite").json(spec["quarantineUri"])
            log(f"{quarantined} row(s) quarantined to {spec['quarantineUri']}")
        if rows_stale:
            stale_rows_of(stale, key).write.mode("overwrite").json(spec["staleUri"])
            log(f"{rows_stale} stale change(s) set aside in {spec['staleUri']}")

    return set_aside


def reapply_set_aside(spec):
    """Where a reapply puts what it sets aside: rows that still do not cast, for a person to look at
    (the batch that first set them aside filed them already). Changes older than the stored row are
    not set aside: in a backfill they are changes the row has moved on from since."""
    key = spec["primaryKey"]

    def set_aside(bad, quarantined, stale, rows_stale):
        if quarantined:
            quarantine_rows(bad, key).write.mode("overwrite").json(spec["quarantineUri"])
            log(f"{quarantined} row(s) still do not cast; written to {spec['quarantineUri']}")
        if rows_stale:
            log(f"{rows_stale} change(s) older than the stored row: superseded since, left alone")

    return set_aside


def run_upsert(spark, spec):
    started = time.time()
    base = spec["basePath"].rstrip("/")
    batch = spec["batchId"]
    changelog = spec.get("changelogBasePath")
    # The change log is written first and the table second, each skipped when its timeline already
    # has the batch: a job killed between the two finishes the second on the next attempt.
    done = instant_of_batch(spark, base, batch)
    changelog_done = instant_of_batch(spark, changelog, batch) if changelog else None
    if done and (changelog_done or not changelog):
        log(f"batch {batch} is already in the timeline at {done}: nothing to do")
        return {"batchId": batch, "instant": done, "changelogInstant": changelog_done, "alreadyApplied": True, "rowsRead": 0, "rowsUpserted": 0, "rowsReapplied": 0, "rowsDeleted": 0, "rowsStale": 0, "rowsDuplicate": 0, "rowsQuarantined": 0, "rowsMoved": 0, "seconds": round(time.time() - started, 3)}

    reapply = bool(spec.get("reapply"))
    rows = to_platform_time(typed(read_batch(spark, spec), spec), spec).persist()
    result = apply_changes(spark, spec, rows, done, changelog_done, reapply_set_aside(spec) if reapply else upsert_set_aside(spec), reapply=reapply)
    return {**result, "seconds": round(time.time() - started, 3)}


# --- replay ---------------------------------------------------------------------------------------

class ReplayDataMissing(Exception):
    """The set-aside rows, or a raw file they came from, are no longer where they were."""


def read_set_aside(spark, spec):
    """The set-aside rows of a failed event, under neutral names (_sa_key_<i>, _sa_op, _sa_seq, _sa_file, _sa_msg, _sa_stored)."""
    key, kind = spec["primaryKey"], spec["kind"]
    seq_col, msg_col = (CHANGE_SEQ, "_danau_error") if kind == "quarantine" else ("change_seq", "reason")
    names = list(key) + [OP, seq_col, "_danau_file", msg_col] + (["stored_change_seq"] if kind == "stale" else [])
    # Read with a schema: the set-aside columns are all strings, and JSON leaves out null fields.
    schema = StructType([StructField(n, StringType(), True) for n in dict.fromkeys(names)])
    df = spark.read.schema(schema).json(spec["setAsideUri"])
    return df.select(
        *[F.col(f"`{k}`").alias(f"_sa_key_{i}") for i, k in enumerate(key)],
        F.col(OP).alias("_sa_op"),
        F.col(f"`{seq_col}`").alias("_sa_seq"),
        F.col("_danau_file").alias("_sa_file"),
        F.col(f"`{msg_col}`").alias("_sa_msg"),
        (F.col("stored_change_seq") if kind == "stale" else F.lit(None).cast("string")).alias("_sa_stored"),
    )


def same_change(key):
    """A raw row is a set-aside row: same file, same change sequence, same key (as the set-aside
    row wrote it then, or as the raw file holds it; a key that did not cast is null there)."""
    cond = (F.col("_danau_file") == F.col("_sa_file")) & (F.col(CHANGE_SEQ) == F.coalesce(F.col("_sa_seq"), F.lit("")))
    for i, k in enumerate(key):
        sa = F.col(f"_sa_key_{i}")
        cond = cond & (sa.isNull() | (sa == F.col(f"`{k}`").cast("string")) | (sa == F.col(f"{RAW_KEY}{i}")))
    return cond


def replay_set_aside_rows(kind, key, bad, stale, missing):
    """Everything a replay sets aside again, in the format of the rows it replayed, so the same kind
    of replay can read it next time: still uncastable, now older than the stored row, not found."""
    keys = key_strings(key)
    missing_keys = [F.col(f"_sa_key_{i}").alias(k) for i, k in enumerate(key)]
    not_found = F.concat(F.lit("not found in its raw file (same file, change sequence and key)"), F.coalesce(F.concat(F.lit("; was: "), F.col("_sa_msg")), F.lit("")))
    if kind == "quarantine":
        parts = [
            bad.select(*keys, F.col(OP), F.col(CHANGE_SEQ), F.col("_danau_file"), F.col("_danau_error")),
            stale.select(*keys, F.col(OP), F.col(CHANGE_SEQ), F.col("_danau_file"), F.concat(F.lit(f"{STALE_REASON}: stored change "), F.col("_old_seq")).alias("_danau_error")),
            missing.select(*missing_keys, F.col("_sa_op").alias(OP), F.col("_sa_seq").alias(CHANGE_SEQ), F.col("_sa_file").alias("_danau_file"), not_found.alias("_danau_error")),
        ]
    else:
        parts = [
            bad.select(*keys, F.col(OP), F.col(CHANGE_SEQ).alias("change_seq"), F.lit(None).cast("string").alias("stored_change_seq"), F.col("_danau_file"), F.col("_danau_error").alias("reason")),
            stale_rows_of(stale, key),
            missing.select(*missing_keys, F.col("_sa_op").alias(OP), F.col("_sa_seq").alias("change_seq"), F.col("_sa_stored").alias("stored_change_seq"), F.col("_sa_file").alias("_danau_file"), not_found.alias("reason")),
        ]
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out


def raw_path(spark, file_uri):
    """input_file_name() gives a URL-encoded URI; reading it back wants the plain path."""
    jvm = spark.sparkContext._jvm
    return jvm.org.apache.hadoop.fs.Path(jvm.java.net.URI(file_uri)).toString()


def replay_figures(figures, out_uri):
    """What a replay reports, from apply_changes' figures plus the rows it could not find."""
    still = int(figures.get("rowsQuarantined", 0)) + int(figures.get("rowsStale", 0)) + int(figures.get("rowsNotFound", 0))
    return {**figures, "rowsStillSetAside": still, "stillSetAsideUri": out_uri if still else None}


def run_replay(spark, spec):
    """Set-aside rows of a failed event, through the upsert's path again (apply_changes): the
    current lake types, the ordering guard, one commit stamped with the replay's batch id."""
    started = time.time()
    base = spec["basePath"].rstrip("/")
    batch, kind, key = spec["batchId"], spec["kind"], spec["primaryKey"]
    changelog = spec.get("changelogBasePath")
    out_uri = spec["stillSetAsideUri"]
    # Recorded in the commit too, so a rerun that finds the commit reports what the replay did.
    recorded = {"replayId": spec["replayId"], "kind": kind, "setAsideUri": spec["setAsideUri"], "rowsSetAside": 0, "rowsNotFound": 0, "samples": []}

    def finish(figures):
        return {**replay_figures({**EMPTY_REPLAY, **recorded, **figures}, out_uri), "seconds": round(time.time() - started, 3)}

    # The table is written last, after the change log and the rows set aside again: a commit that
    # carries the replay's batch id means the whole replay is done.
    done, meta = commit_of_batch(spark, base, batch)
    if done:
        log(f"replay {batch} is already in the timeline at {done}: nothing to do")
        return finish({**json.loads(meta.get(FIGURES_KEY) or "{}"), "batchId": batch, "instant": done, "alreadyApplied": True})
    if not exists(spark, spec["setAsideUri"]):
        raise ReplayDataMissing(f"the set-aside rows at {spec['setAsideUri']} no longer exist")

    set_aside = read_set_aside(spark, spec).persist()
    recorded["rowsSetAside"] = set_aside.count()
    files = sorted(r["_sa_file"] for r in set_aside.select("_sa_file").distinct().collect() if r["_sa_file"])
    if not files:
        if recorded["rowsSetAside"]:
            raise ReplayDataMissing(f"the set-aside rows at {spec['setAsideUri']} do not name the raw files they came from (_danau_file)")
        return finish({"batchId": batch})
    paths = [raw_path(spark, f) for f in files]
    gone = [p for p in paths if not exists(spark, p)]
    if gone:
        raise ReplayDataMissing(
            f"{len(gone)} raw file(s) the set-aside rows at {spec['setAsideUri']} came from are no longer in the raw zone "
            f"(archived? recover them first): " + ", ".join(gone[:5]) + (" ..." if len(gone) > 5 else "")
        )

    # Only the named files, and of their rows exactly the set-aside ones, typed with today's lake types.
    rows = to_platform_time(typed(read_batch(spark, spec, paths, raw_keys=True), spec), spec)
    match = same_change(key)
    chosen = rows.join(set_aside, match, "left_semi").drop(*[c for c in rows.columns if c.startswith(RAW_KEY)]).persist()
    missing = set_aside.join(rows, match, "left_anti").persist()
    recorded["rowsNotFound"] = missing.count()

    def set_aside_again(bad, quarantined, stale, rows_stale):
        if not (quarantined or rows_stale or recorded["rowsNotFound"]):
            return
        again = replay_set_aside_rows(kind, key, bad, stale, missing).persist()
        again.write.mode("overwrite").json(out_uri)
        recorded["samples"] = [r[0] for r in again.select("_danau_error" if kind == "quarantine" else "reason").limit(3).collect()]
        log(f"{quarantined + rows_stale + recorded['rowsNotFound']} row(s) set aside again in {out_uri}")

    # `recorded` is read when the commit is written, after set_aside_again has added the samples.
    changelog_done = instant_of_batch(spark, changelog, batch) if changelog else None
    result = apply_changes(spark, spec, chosen, None, changelog_done, set_aside_again, changelog_only_new=True, commit_figures=recorded)
    return finish(result)
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
    parser.add_argument("command", choices=["upsert", "replay", "query", "export"])
    parser.add_argument("--spec", required=True, help="URI of the JSON spec")
    args = parser.parse_args(argv)
    spark = SparkSession.builder.appName(f"danau-lake-{args.command}").getOrCreate()
    spec = json.loads(read_text(spark, args.spec))
    try:
        result = {"upsert": run_upsert, "replay": run_replay, "query": run_query, "export": run_export}[args.command](spark, spec)
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
