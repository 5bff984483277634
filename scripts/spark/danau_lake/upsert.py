"""The upsert path: a batch of raw DMS files into a Hudi table, its change log and its tombstones.

Reads exactly the files in the spec; casts each column to its lake type (a value that does not cast
sends its row to quarantine, with the reason); turns timestamps into the platform's time zone (WIB by
default); derives the daily partition `dt`; keeps, per key, the latest change in the batch by change
sequence; drops changes that are not newer than what the table already holds (the ordering guard:
Hudi's payloads are latest-write-wins across batches, so an old file arriving late would otherwise
overwrite a newer row) and writes them to the stale record; applies `Op = D` as a delete in the
partition the row lives in; moves a row whose partition changed (non-global index); stamps the commit
with the batch id, and skips a batch that the timeline shows as applied already.

`reapply: true` (a backfill re-running a date range after a fix to the table's definition or to this
job): the same path, except that a change whose change sequence EQUALS the stored row's is applied
again when the row it makes now differs from the stored one (compared in the current lake types), and
left alone when it does not; changes older than the stored row are counted as superseded, not set
aside as stale. The change log gets only the changes it lacks or now holds differently, a rewritten
one in the partition it already lives in, so (key, change sequence) stays unique there.
"""

import json
import time

from pyspark.sql import Window
from pyspark.sql import functions as F

from . import options as hudi
from . import threads
from .log import keep, log, stage
from .options import META_BATCH, META_OP, META_SEQ, META_TS, PARTITION
from .timeline import FIGURES_KEY, clear_interrupted_creation, completed_instants, instant_of_batch

OP, COMMIT_TS, CHANGE_SEQ = "Op", "dms_commit_ts", "dms_change_seq"
# Raw key values carried beside the typed ones while a replay picks its rows.
RAW_KEY = "_danau_rawkey_"
STALE_REASON = "an older change than the stored row (ordering guard)"
TOMB_SEQ = "_danau_tomb_seq"


def append_to_hudi(df, options, base):
    """The one way the job writes a Hudi table (the table, its change log, its tombstones): a table
    whose creation a killed engine cut short is cleared first, or no retry could ever write it."""
    clear_interrupted_creation(base)
    df.write.format("hudi").options(**options).mode("append").save(base)


def write_changelog(spark, spec, changes):
    """One change-log commit of `changes` stamped with the batch id, or None when there are none
    (an upsert on (key, change sequence): options.changelog_options)."""
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
    append_to_hudi(shaped, hudi.changelog_options(spec), base)
    instant = instant_of_batch(base, spec["batchId"])
    if instant is None:
        raise RuntimeError(f"batch {spec['batchId']}: the change log write finished but no completed instant carries its id")
    return instant


def to_lake_names(raw, spec):
    """Raw files keep the source's column names, as DMS writes them (`Dispensed By`); from here on each
    column goes by its lake name (`dispensed_by`), the one Hudi, Glue and the warehouse accept.
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
# bring the row back. So each table has a small tombstone table beside it, keyed by
# the primary key, holding the change sequence of each key's last delete. It is read whole but stays
# small: a tombstone is lifted when a newer change brings the key back, and dropped once the table has
# committed `cleanerCommitsRetained` times after the delete (the cleaner's window; README, "Deletes
# and tombstones"). It is written before the table, like the change log: a rerun after a crash in
# between computes and writes the same tombstones again.


def read_tombstones(spark, spec):
    """The tombstone table (key columns, TOMB_SEQ, `_hoodie_commit_time`), or None when it has none yet."""
    path = spec.get("tombstonesBasePath")
    if not path or not completed_instants(path):
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


def tombstones_may_expire(spec):
    """Whether any tombstone can have expired, from the timelines alone (no Spark job): the table has
    committed more than `cleanerCommitsRetained` times, and the tombstone table's oldest commit on its
    timeline is older than the horizon (every tombstone was written at or after that commit)."""
    retained = int(spec["cleanerCommitsRetained"])
    instants = [i for i, _ in completed_instants(spec["basePath"])]
    if len(instants) <= retained:
        return None
    horizon = instants[-(retained + 1)]
    kept = completed_instants(spec["tombstonesBasePath"])
    return horizon if kept and kept[0][0] < horizon else None


def expired_tombstones(tombstones, horizon):
    """Tombstones the table has committed `cleanerCommitsRetained` times since (the retention rule), as
    deletes for the tombstone table. A tombstone is written just before its batch's table commit, so it
    expires once a commit older than it is no longer among the last `retained` + 1."""
    return tombstones.filter(F.col("_hoodie_commit_time") < F.lit(horizon)).drop("_hoodie_commit_time").withColumnRenamed(TOMB_SEQ, META_SEQ)


def write_tombstones(spark, spec, fresh, pending):
    """Records the batch's deletes (applied ones and deletes of keys the table never had alike: an
    insert arriving after them is still older), lifts the tombstones of keys a newer change brings
    back, and drops the expired ones; one commit stamped with the batch id, none when nothing changes.
    pending: how many deletes and lifts the batch has (counted with the guard), so a batch with none,
    and no tombstone old enough to expire, costs no Spark job here."""
    path = spec.get("tombstonesBasePath")
    if not path:
        return None
    horizon = tombstones_may_expire(spec)
    if not pending and horizon is None:
        return None
    key = [F.col(f"`{k}`") for k in spec["primaryKey"]]
    laid = fresh.filter(F.col(OP) == "D").select(*key, F.col(CHANGE_SEQ).alias(META_SEQ), F.lit(False).alias("_hoodie_is_deleted"))
    lifted = fresh.filter((F.col(OP) != "D") & F.col(TOMB_SEQ).isNotNull()).select(*key, F.col(CHANGE_SEQ).alias(META_SEQ), F.lit(True).alias("_hoodie_is_deleted"))
    to_write = laid.unionByName(lifted)
    tombstones = read_tombstones(spark, spec) if horizon is not None else None
    if tombstones is not None:
        # A key the batch touches is decided above (its newer change wins), not by its old tombstone.
        expired = expired_tombstones(tombstones, horizon)
        to_write = to_write.unionByName(expired.join(fresh.select(*key), on=spec["primaryKey"], how="left_anti").withColumn("_hoodie_is_deleted", F.lit(True)))
    to_write = keep(to_write.withColumn(META_BATCH, F.lit(spec["batchId"])))
    if not pending and to_write.limit(1).count() == 0:
        return None
    base = path.rstrip("/")
    append_to_hudi(to_write, hudi.tombstone_options(spec), base)
    log(f"batch {spec['batchId']}: tombstones written ({pending} recorded or lifted{', expired ones dropped' if horizon else ''})")
    return instant_of_batch(base, spec["batchId"])


# Key types whose values Hudi's record-level index holds as Spark writes them as text: a lookup by any
# other type (a date, a decimal) could miss its file group, so those tables are read whole.
KEY_TYPES_FOR_LOOKUP = ("string", "int", "bigint", "smallint", "tinyint")
# Above this many keys the guard reads the whole table: a filter of that many values costs more to
# plan and send than the scan it saves (a first load, a backfill).
KEY_LOOKUP_LIMIT = 20000


def read_stored_for_keys(spark, spec, batch_rows):
    """The stored table as far as the guard needs it: the rows of the batch's keys (and maybe others).

    With Hudi's record-level index (indexType RECORD_INDEX) and a one-column key, a filter on the
    batch's keys, which Hudi answers from the index: only the file groups holding those keys are read,
    so the guard's cost follows the batch, not the table. Otherwise the table whole: the bloom indexes
    cannot say where a key is without reading every file's footer, and a row may have moved to any day.
    """
    base = spec["basePath"].rstrip("/")
    key = spec["primaryKey"]
    types = {c["name"]: c["lakeType"] for c in spec["columns"]}
    if spec["indexType"] == "RECORD_INDEX" and len(key) == 1 and types.get(key[0]) in KEY_TYPES_FOR_LOOKUP:
        with stage("keys"):
            keys = [r[0] for r in batch_rows.select(F.col(f"`{key[0]}`")).distinct().limit(KEY_LOOKUP_LIMIT + 1).collect() if r[0] is not None]
        if len(keys) <= KEY_LOOKUP_LIMIT:
            log(f"batch {spec['batchId']}: the guard reads the file groups of {len(keys)} key(s) (record-level index)")
            return spark.read.format("hudi").options(**hudi.record_index_read_options()).load(base).filter(F.col(f"`{key[0]}`").isin(keys))
    return spark.read.format("hudi").load(base)


# Rows per task for a large batch (a first load, a backfill). The small-batch settings run 2 tasks
# per shuffle, which for millions of rows means blocks of a gigabyte: Hudi's write holds a task's
# records in memory, and a cached frame's spilled partition is read back whole.
ROWS_PER_TASK = 250_000


def sized_for(spark, spec, rows):
    """The spec with its write parallelism raised for a batch of `rows`, and the session's shuffle
    partitions with it; the spec as it is for a small batch."""
    tasks = -(-rows // ROWS_PER_TASK)
    if tasks <= int(spec.get("parallelism") or 2):
        return spec
    spark.conf.set("spark.sql.shuffle.partitions", str(tasks))
    log(f"batch {spec['batchId']}: {rows} rows, {tasks} tasks per shuffle and write")
    return {**spec, "parallelism": tasks}


def apply_changes(spark, spec, rows, done, changelog_done, set_aside, changelog_only_new=False, commit_figures=None, reapply=False, changelog_alongside=False):
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
    changelog_alongside: write the change log on a second thread while the table is guarded and
    written (an upsert: its rerun finishes whichever of the two is missing). A replay writes it first,
    because a replay's table commit is what says the whole replay is done.
    """
    base = spec["basePath"].rstrip("/")
    batch = spec["batchId"]
    key = spec["primaryKey"]
    changelog = spec.get("changelogBasePath")
    applied = {"batchId": batch, "instant": done, "changelogInstant": changelog_done, "alreadyApplied": True, "rowsRead": 0, "rowsUpserted": 0, "rowsReapplied": 0, "rowsDeleted": 0, "rowsStale": 0, "rowsDuplicate": 0, "rowsQuarantined": 0, "rowsMoved": 0}
    # Counted in one pass: every action re-runs the plan it stands on, and a Spark job costs seconds.
    with stage("read"):
        tally = rows.agg(F.count(F.lit(1)).alias("read"), F.sum(F.when(F.col("_danau_error") != "", 1).otherwise(0)).alias("bad")).first()
    rows_read, quarantined = int(tally["read"]), int(tally["bad"] or 0)
    spec = sized_for(spark, spec, rows_read)
    pending_changelog = None
    if changelog and not changelog_done:

        def write_the_changelog():
            changes = rows.filter(F.col("_danau_error") == "")
            if changelog_only_new and completed_instants(changelog):
                held = spark.read.format("hudi").load(changelog.rstrip("/")).select(*[F.col(f"`{k}`").cast("string").alias(f"_cl_key_{i}") for i, k in enumerate(key)], F.col(META_SEQ).alias("_cl_seq"))
                same = F.col(CHANGE_SEQ) == F.col("_cl_seq")
                for i, k in enumerate(key):
                    same = same & F.col(f"`{k}`").cast("string").eqNullSafe(F.col(f"_cl_key_{i}"))
                changes = changes.join(held, same, "left_anti")
            if reapply and completed_instants(changelog):
                changes = changelog_changes_to_rewrite(spark, spec, changes)
            with stage("changelog"):
                return write_changelog(spark, spec, changes)

        if changelog_alongside:
            # The change log holds every change that cast, whatever the guard decides, so it can be
            # written beside the table. Each skips itself when its timeline has the batch, so a job
            # killed with one committed and not the other finishes the other on the next attempt.
            pending_changelog = threads.start(spark, write_the_changelog)
        else:
            changelog_done = write_the_changelog()
    try:
        result = {**applied} if done else apply_to_table(spark, spec, rows, set_aside, commit_figures, reapply, rows_read, quarantined, changelog_done)
    except BaseException:
        threads.settle(pending_changelog)
        raise
    if pending_changelog is not None:
        changelog_done = pending_changelog.result()
    return {**result, "changelogInstant": changelog_done}


def apply_to_table(spark, spec, rows, set_aside, commit_figures, reapply, rows_read, quarantined, changelog_done):
    """apply_changes' table half: the guard, what it sets aside, the tombstones, the table's commit."""
    base = spec["basePath"].rstrip("/")
    batch = spec["batchId"]
    key = spec["primaryKey"]

    bad = rows.filter(F.col("_danau_error") != "")
    good = latest_per_key(rows.filter(F.col("_danau_error") == ""), key)

    # A table whose first write was killed has .hoodie/ but no completed commit, and reads as an
    # empty relation without columns: it holds no rows yet (the next write rolls the failed one back).
    if completed_instants(base):
        stored_table = read_stored_for_keys(spark, spec, good)
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
    joined = keep(with_tombstones(spark, spec, joined))

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
    # A global index (GLOBAL_BLOOM, RECORD_INDEX) moves a row to its new day itself.
    moves = spec["indexType"] == "BLOOM"
    with stage("guard"):
        counts = joined.agg(
            F.sum(F.when(stale, 1).otherwise(0)).alias("stale"),
            F.sum(F.when(duplicate, 1).otherwise(0)).alias("duplicate"),
            F.sum(F.when(fresh_flag & (F.col(OP) != "D"), 1).otherwise(0)).alias("upserts"),
            F.sum(F.when(fresh_flag & (F.col(OP) == "D") & known, 1).otherwise(0)).alias("deletes"),
            F.sum(F.when(F.lit(moves) & fresh_flag & (F.col(OP) != "D") & known & (F.col("_old_partition") != F.col(PARTITION)), 1).otherwise(0)).alias("moved"),
            F.sum(F.when(reapplied, 1).otherwise(0)).alias("reapplied"),
            F.sum(F.when(fresh_flag & ((F.col(OP) == "D") | F.col(TOMB_SEQ).isNotNull()), 1).otherwise(0)).alias("tombstone_work"),
        ).first()
    rows_stale, rows_duplicate = int(counts["stale"] or 0), int(counts["duplicate"] or 0)
    rows_upserted, rows_deleted, rows_moved = int(counts["upserts"] or 0), int(counts["deletes"] or 0), int(counts["moved"] or 0)
    rows_reapplied = int(counts["reapplied"] or 0)
    # Set aside before the commit: a commit carrying the batch id implies its set-aside rows exist.
    with stage("set_aside"):
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
    with stage("tombstones"):
        write_tombstones(spark, spec, fresh, int(counts["tombstone_work"] or 0))
    instant = None
    if rows_upserted + rows_deleted + rows_moved > 0:
        options = hudi.table_options(spec)
        if commit_figures is not None:
            options[FIGURES_KEY] = json.dumps({**figures, **commit_figures}, default=lambda v: v.item() if hasattr(v, "item") else str(v))
        with stage("write"):
            append_to_hudi(to_write, options, base)
        with stage("timeline"):
            instant = instant_of_batch(base, batch)
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
    # The change log and the table are written side by side, each skipped when its timeline already
    # has the batch: a job killed with one of the two committed finishes the other on the next attempt.
    with stage("timeline"):
        done = instant_of_batch(base, batch)
        changelog_done = instant_of_batch(changelog, batch) if changelog else None
    if done and (changelog_done or not changelog):
        log(f"batch {batch} is already in the timeline at {done}: nothing to do")
        return {"batchId": batch, "instant": done, "changelogInstant": changelog_done, "alreadyApplied": True, "rowsRead": 0, "rowsUpserted": 0, "rowsReapplied": 0, "rowsDeleted": 0, "rowsStale": 0, "rowsDuplicate": 0, "rowsQuarantined": 0, "rowsMoved": 0, "seconds": round(time.time() - started, 3)}

    reapply = bool(spec.get("reapply"))
    rows = keep(to_platform_time(typed(read_batch(spark, spec), spec), spec))
    result = apply_changes(spark, spec, rows, done, changelog_done, reapply_set_aside(spec) if reapply else upsert_set_aside(spec), reapply=reapply, changelog_alongside=True)
    return {**result, "seconds": round(time.time() - started, 3)}
