"""Hudi write options for the three tables the job keeps per source table: the table itself, its
change log (every change, keyed by key and change sequence), and its tombstones (the last delete of
each deleted key). docs/design/warm-spark-engine.md says what each small-batch setting costs.
"""

from .timeline import BATCH_KEY

PARTITION = "dt"
META_OP, META_TS, META_SEQ, META_BATCH = "_danau_op", "_danau_commit_ts", "_danau_change_seq", "_danau_batch_id"


def small_batch_options(parallelism=2):
    """Settings for batches of thousands of rows, not millions (measured on a warm session: a 1k-row
    upsert 7.4-8.2 s with Hudi's defaults, 2.0-3.3 s with these):
      - no metadata table: one Hudi table fewer to commit to per write; file listing falls back to
        listing the partition folders, which grows with partitions (daily: one per day);
      - direct markers, no embedded timeline server: no extra server per write;
      - shuffle parallelism sized for the machine, not for Hudi's default of 200 tasks."""
    p = str(parallelism)
    return {
        "hoodie.metadata.enable": "false",
        "hoodie.write.markers.type": "DIRECT",
        "hoodie.embed.timeline.server": "false",
        "hoodie.upsert.shuffle.parallelism": p,
        "hoodie.insert.shuffle.parallelism": p,
        "hoodie.delete.shuffle.parallelism": p,
        "hoodie.bulkinsert.shuffle.parallelism": p,
        "hoodie.bloom.index.parallelism": p,
        "hoodie.simple.index.parallelism": p,
        "hoodie.markers.delete.parallelism": p,
        "hoodie.finalize.write.parallelism": p,
        "hoodie.cleaner.parallelism": p,
    }


# A clean is planned every this many commits, not after each: planning lists every partition the
# commits since the last clean touched, which a small batch should not pay every time. Cleaning later
# only keeps more file versions for a while; what it keeps (the last `retained` commits) is the same.
CLEAN_EVERY_COMMITS = 4


def record_index_write_options():
    """A table with Hudi's record-level index: the metadata table holds, per key, the file group it is
    in. Hudi's write finds a batch's keys through it (a global index: a key moved to another day is
    deleted from the old one), and the guard reads only the file groups that hold the batch's keys
    (record_index_read_options). Every write to such a table must keep the metadata table on: a write
    without it would drop the metadata table, and the guard would fall back to reading the table whole."""
    return {
        "hoodie.metadata.enable": "true",
        "hoodie.metadata.record.index.enable": "true",
        "hoodie.record.index.update.partition.path": "true",
    }


def record_index_read_options():
    """A read whose filter on the key (`key IN (…)`) is answered from the record-level index: Spark
    reads only the file groups that hold those keys."""
    return {
        "hoodie.metadata.enable": "true",
        "hoodie.enable.data.skipping": "true",
        "hoodie.metadata.record.index.enable": "true",
    }


def retention_options(retained):
    """The cleaner keeps the file versions of the last `retained` commits; the archiver must keep
    more instants than that on the active timeline."""
    return {
        "hoodie.cleaner.policy": "KEEP_LATEST_COMMITS",
        "hoodie.cleaner.commits.retained": str(retained),
        "hoodie.clean.automatic": "true",
        "hoodie.clean.max.commits": str(CLEAN_EVERY_COMMITS),
        "hoodie.keep.min.commits": str(retained + 5),
        "hoodie.keep.max.commits": str(retained + 10),
    }


def _common(spec):
    return {
        **small_batch_options(int(spec.get("parallelism") or 2)),
        **retention_options(int(spec["cleanerCommitsRetained"])),
        "hoodie.datasource.write.commitmeta.key.prefix": "danau.",
        BATCH_KEY: spec["batchId"],
    }


def table_options(spec):
    table_type = spec["tableType"]
    key = spec["primaryKey"]
    opts = {
        **_common(spec),
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
        # The ordering guard has already dropped every change that is not newer than the stored row,
        # so what reaches Hudi must win: overwrite, never compare precombine values (an application's
        # updated_at can go backwards; the change sequence cannot).
        "hoodie.datasource.write.payload.class": "org.apache.hudi.common.model.OverwriteWithLatestAvroPayload",
        # The batch holds one change per key already (latest_per_key): no second dedupe shuffle.
        "hoodie.combine.before.upsert": "false",
        "hoodie.index.type": spec["indexType"],
        "hoodie.bloom.index.update.partition.path": "true",
        **(record_index_write_options() if spec["indexType"] == "RECORD_INDEX" else {}),
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
    """The change log: every change, keyed by (primary key, change sequence).

    A Hudi table holds one row per key and a batch keeps only each key's latest change, so the history
    between two reads would be gone; SCD type 2 models pull from this table instead. Written as an
    upsert on (key, change sequence), so writing a change twice leaves one row. An insert would skip
    the index lookup, but the engine can run a write twice without the job knowing: the Spark Connect
    client sends a command again when the engine restarted before answering, and a commit that had
    completed would then be doubled. A backfill's rewrite of changes held differently is the same
    upsert, in place.
    """
    return {
        **_common(spec),
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
        # New changes go to new files, never topping up a day's existing ones (Hudi's small-file
        # handling would copy every file the batch's days hold: a cost that grows with the log, not
        # the batch). The price is more, smaller files; a model's pull reads only the new commits'.
        "hoodie.parquet.small.file.limit": "0",
    }


def tombstone_options(spec):
    return {
        **_common(spec),
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
    }
