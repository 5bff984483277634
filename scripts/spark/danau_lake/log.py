import contextlib
import sys
import time

_stages = {}


def log(message):
    """Progress for the job's log (stderr): never row values, only counts, keys' names and URIs."""
    print(f"lake_job: {message}", file=sys.stderr, flush=True)


def reset_stages():
    _stages.clear()


def stage_seconds():
    """Seconds spent per stage of this run, for the result (`stages`) and the profile in the docs."""
    return {name: round(seconds, 3) for name, seconds in _stages.items()}


@contextlib.contextmanager
def stage(name):
    started = time.time()
    try:
        yield
    finally:
        _stages[name] = _stages.get(name, 0.0) + time.time() - started


_kept = []


def keep(df):
    """df cached for this run only, as a cached temp view: a warm engine outlives the run, so what a
    run caches is released when it ends (release_kept), or it would pile up run after run.

    Not df.persist(): under Spark Connect a frame derived from a persisted one is sent again as a plan
    and resolved anew, and a plan that reads a Hudi table does not match its cached copy (Hudi's file
    index has no equality), so every action recomputed the join with the whole stored table. A
    derived frame names the view instead, whose plan is resolved once."""
    import uuid

    spark = df.sparkSession
    name = f"danau_kept_{uuid.uuid4().hex}"
    df.createOrReplaceTempView(name)
    spark.catalog.cacheTable(name)
    _kept.append((spark, name))
    return spark.table(name)


def release_kept():
    while _kept:
        spark, name = _kept.pop()
        try:
            spark.catalog.uncacheTable(name)
            spark.catalog.dropTempView(name)
        except Exception:  # the engine went away: nothing left to release
            pass
