"""replay: the rows an upsert set aside (one failed event: `kind` quarantine or stale, at `setAsideUri`)
through the upsert's path again (apply_changes), with the lake types the control plane holds now.

It reads only the raw files the set-aside rows name (`_danau_file`), and of those exactly the set-aside
rows (same file, change sequence and key); what is still set aside (does not cast, older than the
stored row, not found) goes to `stillSetAsideUri` in the format of the rows replayed. The commit
carries the replay's batch id and its figures, so a replay submitted twice is applied once and
reported alike.
"""

import json
import time

from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from . import storage
from .errors import ReplayDataMissing
from .log import keep, log
from .timeline import FIGURES_KEY, commit_of_batch, instant_of_batch
from .upsert import CHANGE_SEQ, OP, RAW_KEY, STALE_REASON, apply_changes, key_strings, read_batch, stale_rows_of, to_platform_time, typed

EMPTY_REPLAY = {"instant": None, "changelogInstant": None, "alreadyApplied": False, "rowsRead": 0, "rowsUpserted": 0, "rowsReapplied": 0, "rowsDeleted": 0, "rowsStale": 0, "rowsDuplicate": 0, "rowsQuarantined": 0, "rowsMoved": 0}


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
    done, meta = commit_of_batch(base, batch)
    if done:
        log(f"replay {batch} is already in the timeline at {done}: nothing to do")
        return finish({**json.loads(meta.get(FIGURES_KEY) or "{}"), "batchId": batch, "instant": done, "alreadyApplied": True})
    if not storage.exists(spec["setAsideUri"]):
        raise ReplayDataMissing(f"the set-aside rows at {spec['setAsideUri']} no longer exist")

    set_aside = keep(read_set_aside(spark, spec))
    recorded["rowsSetAside"] = int(set_aside.count())
    files = sorted(r["_sa_file"] for r in set_aside.select("_sa_file").distinct().collect() if r["_sa_file"])
    if not files:
        if recorded["rowsSetAside"]:
            raise ReplayDataMissing(f"the set-aside rows at {spec['setAsideUri']} do not name the raw files they came from (_danau_file)")
        return finish({"batchId": batch})
    paths = [storage.plain_uri(f) for f in files]
    gone = [p for p in paths if not storage.exists(p)]
    if gone:
        raise ReplayDataMissing(
            f"{len(gone)} raw file(s) the set-aside rows at {spec['setAsideUri']} came from are no longer in the raw zone "
            f"(archived? recover them first): " + ", ".join(gone[:5]) + (" ..." if len(gone) > 5 else "")
        )

    # Only the named files, and of their rows exactly the set-aside ones, typed with today's lake types.
    rows = to_platform_time(typed(read_batch(spark, spec, paths, raw_keys=True), spec), spec)
    match = same_change(key)
    chosen = keep(rows.join(set_aside, match, "left_semi").drop(*[c for c in rows.columns if c.startswith(RAW_KEY)]))
    missing = keep(set_aside.join(rows, match, "left_anti"))
    recorded["rowsNotFound"] = int(missing.count())

    def set_aside_again(bad, quarantined, stale, rows_stale):
        if not (quarantined or rows_stale or recorded["rowsNotFound"]):
            return
        again = keep(replay_set_aside_rows(kind, key, bad, stale, missing))
        again.write.mode("overwrite").json(out_uri)
        recorded["samples"] = [r[0] for r in again.select("_danau_error" if kind == "quarantine" else "reason").limit(3).collect()]
        log(f"{quarantined + rows_stale + recorded['rowsNotFound']} row(s) set aside again in {out_uri}")

    # `recorded` is read when the commit is written, after set_aside_again has added the samples.
    changelog_done = instant_of_batch(changelog, batch) if changelog else None
    result = apply_changes(spark, spec, chosen, None, changelog_done, set_aside_again, changelog_only_new=True, commit_figures=recorded)
    return finish(result)