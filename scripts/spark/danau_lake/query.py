"""query and export: reads of the lake's tables.

query registers each table as a view under the name Glue gives it (`<name>`; for MERGE_ON_READ
`<name>_rt` and the read-optimized `<name>_ro`), optionally an incremental view `<name>_changes` of
the commits after an instant, runs one SQL statement and returns its rows. An incremental start older
than what the cleaner keeps is reported (`startCleaned`) instead of silently returning less
(apache/hudi#2224).

export is a model's pull: the change log's changes after an instant, written as Parquet for the
warehouse to load.
"""

import json
import time

from pyspark.sql import functions as F

from .errors import IncrementalStartCleaned
from .log import keep
from .options import META_OP, META_SEQ, META_TS
from .timeline import completed_instants


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
    instants = [i for i, _ in completed_instants(base)]
    retained = int(table.get("cleanerCommitsRetained", 15))
    # KEEP_LATEST_COMMITS keeps the file versions the last `retained` commits wrote; an incremental
    # pull from before the oldest of those may be missing changes whose files were cleaned.
    earliest_safe = instants[-retained] if len(instants) >= retained else (instants[0] if instants else None)
    cleaned = begin not in ("", "000") and earliest_safe is not None and begin < earliest_safe and begin not in instants[-retained:]
    if cleaned and incremental.get("onCleaned", "fail") == "fail":
        raise IncrementalStartCleaned(
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
    # to_json on the server, not DataFrame.toJSON (an RDD: there is none under Spark Connect).
    rows = [json.loads(r[0]) for r in df.select(F.to_json(F.struct(*[F.col(f"`{c}`") for c in df.columns]))).limit(limit + 1).collect()]
    return {"columns": df.columns, "rows": rows[:limit], "truncated": len(rows) > limit, "incremental": incremental, "seconds": round(time.time() - started, 3)}


def run_export(spark, spec):
    """A model's pull: the change log's changes after an instant, written as Parquet for the warehouse
    to load (COPY on Redshift, a bulk load on PostgreSQL). A start the cleaner has passed falls back to
    the whole change log, which still holds every change (its records are never updated), and says so."""
    started = time.time()
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    table = {**spec["table"], "tableType": "COPY_ON_WRITE", "incremental": {"beginInstant": spec["beginInstant"], "onCleaned": "full"}}
    if not completed_instants(table["basePath"]):
        return {"rows": 0, "outputUri": None, "incremental": {"table": table["name"], "beginInstant": spec["beginInstant"], "endInstant": None, "startCleaned": False, "fallback": None}, "seconds": round(time.time() - started, 3)}
    info = register_views(spark, table)
    columns = [F.col(f"`{c}`") for c in spec["columns"]] + [F.col(META_OP), F.col(META_SEQ), F.col(META_TS)]
    changes = keep(spark.table(f"{table['name']}_changes").select(*columns))
    rows = int(changes.count())
    if rows:
        changes.coalesce(1).write.mode("overwrite").parquet(spec["outputUri"])
    return {"rows": rows, "outputUri": spec["outputUri"] if rows else None, "incremental": info, "seconds": round(time.time() - started, 3)}

