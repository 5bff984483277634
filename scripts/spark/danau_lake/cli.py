"""python -m danau_lake <command> --spec <uri> [--remote sc://host:port] [--session-id <uuid>]

Reads the spec, checks it against the contract, runs the command in the Spark it is given and writes
the result object to the spec's resultUri (also the last line of stdout). A failure is a result too:
{"ok": false, "errorType": …, "retryable": …, "error": …}, and exit status 1.

--remote: a Spark Connect server (the warm engine). --session-id: the server-side session to use.
The caller derives it from the job's name, so a rerun of the same job after its client was killed
joins the same session and first interrupts whatever the killed client left running there: two
writers never work on one table at once. Without --remote the job makes a classic session
(spark-submit, an EMR step).
"""

import argparse
import json
import signal
import sys
import time

from . import contract, storage
from .errors import classify
from .log import log, release_kept, reset_stages, stage_seconds
from .threads import JOB_TAG, tag_operations



def plain(value):
    """A value json cannot write as is: a numpy number as the number, anything else as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def session(command, remote, session_id):
    from pyspark.sql import SparkSession

    if not remote:
        return SparkSession.builder.appName(f"danau-lake-{command}").getOrCreate()
    url = remote.rstrip("/")
    if session_id:
        url += f"/;session_id={session_id}"
    spark = SparkSession.builder.remote(url).create()
    # What a killed client of this job left running on the server stops before this one writes.
    try:
        spark.interruptTag(JOB_TAG)
    except Exception as err:  # an older server: nothing to interrupt by tag
        log(f"could not interrupt earlier operations: {type(err).__name__}")
    tag_operations(spark)
    return spark


def run(command, spark, spec):
    from . import query, replay, upsert

    runner = {"upsert": upsert.run_upsert, "replay": replay.run_replay, "query": query.run_query, "export": query.run_export}[command]
    return runner(spark, spec)


def main(argv):
    parser = argparse.ArgumentParser(prog="danau_lake", description="Danau lake job")
    parser.add_argument("command", choices=contract.COMMANDS)
    parser.add_argument("--spec", required=True, help="URI of the JSON spec")
    parser.add_argument("--remote", help="Spark Connect URL, e.g. sc://127.0.0.1:15002")
    parser.add_argument("--session-id", help="Spark Connect session id (a UUID)")
    args = parser.parse_args(argv)
    started = time.time()
    spec, spark = None, None

    def stop(signum, _frame):
        # Cancelled: stop what this client started on the (shared) engine, then go.
        if spark is not None and args.remote:
            try:
                spark.interruptTag(JOB_TAG)
            except Exception:
                pass
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        spec = json.loads(storage.read_text(args.spec))
        contract.check_spec(args.command, spec)
        spark = session(args.command, args.remote, args.session_id)
        reset_stages()
        # As JSON will carry it: Spark Connect hands counts back as numpy integers.
        result = json.loads(json.dumps({**run(args.command, spark, spec), "ok": True}, default=plain))
        result.setdefault("seconds", round(time.time() - started, 3))
        if args.command in ("upsert", "replay"):
            result["stages"] = stage_seconds()
        contract.check_result(args.command, result)
        code = 0
    except Exception as err:
        error_type, retryable = classify(err)
        result = {"ok": False, "errorType": error_type, "retryable": retryable, "error": f"{type(err).__name__}: {err}"[:4000]}
        log(f"failed ({error_type}, {'retryable' if retryable else 'not retryable'}): {result['error'][:500]}")
        code = 1
    text = json.dumps(result, default=str)
    if isinstance(spec, dict) and spec.get("resultUri"):
        storage.write_text(spec["resultUri"], text)
    # The log gets the figures, never rows: a query's rows are patients' data.
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, default=str), flush=True)
    if spark is not None:
        release_kept()
        spark.stop()
    return code
