"""Read raw-zone files (DMS Parquet) the way the lake upsert job will, and print what Spark sees.

    scripts/spark/submit.sh scripts/spark/inspect_raw_files.py s3a://bucket/key.parquet [...]

Prints one JSON line: {"schema": {column: spark type}, "rows": [...]} with decimals as exact
strings, binary as hex, timestamps as UTC ISO strings. Used by the tests to prove that Spark reads
Danau's raw files with the types DMS gives them, and by people debugging a raw file.
"""

import json
import sys
from datetime import date, datetime
from decimal import Decimal

from pyspark.sql import SparkSession


def plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def main(paths):
    if not paths:
        print("usage: inspect_raw_files.py s3a://bucket/key.parquet [...]", file=sys.stderr)
        return 2
    spark = SparkSession.builder.appName("danau-inspect-raw-files").getOrCreate()
    try:
        frame = spark.read.parquet(*paths)
        schema = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
        rows = [{k: plain(v) for k, v in r.asDict().items()} for r in frame.orderBy("dms_change_seq").collect()]
        print(json.dumps({"schema": schema, "rows": rows}, ensure_ascii=False), flush=True)
        return 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
