"""The upsert path end to end in the warm engine: raw DMS-shaped Parquet -> a Hudi table, its change
log and tombstones; the ordering guard; a rerun of the batch; a query through the same entry."""

import json
import uuid

import pytest

from pyspark.sql import Row

from danau_lake import cli, storage, timeline


def spec_for(scratch, files, batch):
    return {
        "batchId": batch,
        "table": "src.public.odd_table",
        "hudiTableName": "src_public_odd_table",
        "basePath": f"{scratch}/lake/odd_table",
        "changelogBasePath": f"{scratch}/lake/odd_table__changelog",
        "tombstonesBasePath": f"{scratch}/lake/odd_table__tombstones",
        "files": files,
        "columns": [
            {"name": "id", "sourceName": "id", "lakeType": "bigint"},
            {"name": "dispensed_by", "sourceName": "Dispensed By", "lakeType": "string"},
            {"name": "amount", "sourceName": "amount", "lakeType": "int"},
            {"name": "visit_date", "sourceName": "visit_date", "lakeType": "date"},
        ],
        "primaryKey": ["id"],
        "precombineField": "id",
        "partitionField": "visit_date",
        "timezone": "Asia/Jakarta",
        "tableType": "COPY_ON_WRITE",
        "indexType": "BLOOM",
        "cleanerCommitsRetained": 3,
        "compactionDeltaCommits": 3,
        "resultUri": f"{scratch}/_danau/{batch}/result.json",
        "quarantineUri": f"{scratch}/_danau/{batch}/quarantine/",
        "staleUri": f"{scratch}/_danau/{batch}/stale/",
        "catalog": None,
    }


def raw_file(spark, uri, rows):
    spark.createDataFrame([Row(**r) for r in rows]).coalesce(1).write.mode("overwrite").parquet(uri)
    return [f"{uri.rstrip('/')}/{n}" for n in storage.list_names(uri) if n.endswith(".parquet")]


def run(command, spec, scratch, remote, name):
    uri = f"{scratch}/_danau/{name}.json"
    storage.write_text(uri, json.dumps(spec))
    code = cli.main([command, "--spec", uri, "--remote", remote, "--session-id", str(uuid.uuid4())])
    return code, json.loads(storage.read_text(spec["resultUri"]))


def change(op, seq, id, who, amount, day):
    return {"Op": op, "dms_commit_ts": f"2026-12-0{day} 01:00:00", "dms_change_seq": f"{seq:020d}", "id": id, "Dispensed By": who, "amount": amount, "visit_date": f"2026-12-0{day}"}


def test_upsert_guards_order_quarantines_and_is_idempotent(spark, scratch, remote):
    first = raw_file(spark, f"{scratch}/raw/1", [
        change("I", 1, 1, "a", "10", 1),
        change("I", 2, 2, "b", "20", 1),
        change("U", 3, 1, "a2", "11", 2),   # moves id 1 to another day
        change("I", 4, 3, "c", "not a number", 1),  # quarantined
        change("D", 5, 2, "b", "20", 1),
    ])
    # The change log as an engine killed inside Hudi's table creation leaves it (.hoodie/, no
    # hoodie.properties): the batch still lands.
    storage.write_text(f"{scratch}/lake/odd_table__changelog/.hoodie/.aux/.placeholder", "")
    code, result = run("upsert", spec_for(scratch, first, "batch-1"), scratch, remote, "b1")
    assert code == 0, result
    assert result["ok"] and result["rowsRead"] == 5 and result["rowsQuarantined"] == 1
    assert result["rowsUpserted"] == 1 and result["rowsDeleted"] == 0 and result["rowsStale"] == 0
    assert result["instant"] and result["changelogInstant"]

    # A late, older change of id 1, and an insert of id 2 older than its delete: both set aside.
    second = raw_file(spark, f"{scratch}/raw/2", [change("U", 2, 1, "old", "1", 1), change("I", 4, 2, "back", "5", 1), change("I", 9, 4, "d", "40", 3)])
    code, result = run("upsert", spec_for(scratch, second, "batch-2"), scratch, remote, "b2")
    assert code == 0, result
    assert (result["rowsStale"], result["rowsUpserted"]) == (2, 1), result

    table = {r["id"]: r for r in spark.read.format("hudi").load(f"{scratch}/lake/odd_table").collect()}
    assert sorted(table) == [1, 4]
    assert table[1]["dispensed_by"] == "a2" and table[1]["amount"] == 11 and table[1]["dt"] == "2026-12-02"

    # The same batch again: found in the timeline, nothing written.
    before = timeline.completed_instants(f"{scratch}/lake/odd_table")
    code, again = run("upsert", spec_for(scratch, second, "batch-2"), scratch, remote, "b2-again")
    assert code == 0 and again["alreadyApplied"] is True
    assert timeline.completed_instants(f"{scratch}/lake/odd_table") == before

    # Every change that cast is in the change log, once: 4 of the first batch, 3 of the second.
    changelog = spark.read.format("hudi").load(f"{scratch}/lake/odd_table__changelog")
    assert changelog.count() == 7

    query = {
        "tables": [{"name": "odd", "basePath": f"{scratch}/lake/odd_table", "tableType": "COPY_ON_WRITE"}],
        "sql": "select id, dispensed_by from odd order by id",
        "maxRows": 1,
        "resultUri": f"{scratch}/_danau/q/result.json",
    }
    code, rows = run("query", query, scratch, remote, "q")
    assert code == 0 and rows["rows"] == [{"id": 1, "dispensed_by": "a2"}] and rows["truncated"] is True

    # A model's pull: the change log from the start, as Parquet, its count an integer (the contract).
    export = {
        "table": {"name": "odd_changelog", "basePath": f"{scratch}/lake/odd_table__changelog", "cleanerCommitsRetained": 3},
        "beginInstant": "000",
        "columns": ["id", "amount"],
        "outputUri": f"{scratch}/_danau/export/rows/",
        "resultUri": f"{scratch}/_danau/export/result.json",
    }
    code, pulled = run("export", export, scratch, remote, "export")
    assert code == 0, pulled
    assert pulled["rows"] == 7 and type(pulled["rows"]) is int
    assert spark.read.parquet(pulled["outputUri"]).count() == 7

    # The table and its change log are written side by side. A job killed after the table's commit and
    # before the change log's (made here by sending the first run's change log elsewhere): the rerun
    # finds the table's commit, leaves the table alone and writes only the change log.
    third = raw_file(spark, f"{scratch}/raw/3", [change("U", 12, 4, "e", "41", 3), change("I", 13, 5, "f", "50", 3)])
    elsewhere = {**spec_for(scratch, third, "batch-3"), "changelogBasePath": f"{scratch}/lake/elsewhere__changelog"}
    code, first_try = run("upsert", elsewhere, scratch, remote, "b3")
    assert code == 0 and first_try["instant"] and first_try["rowsUpserted"] == 2, first_try
    table_timeline = timeline.completed_instants(f"{scratch}/lake/odd_table")
    code, rerun = run("upsert", spec_for(scratch, third, "batch-3"), scratch, remote, "b3-again")
    assert code == 0, rerun
    assert rerun["alreadyApplied"] is True and rerun["instant"] == first_try["instant"] and rerun["changelogInstant"], rerun
    assert timeline.completed_instants(f"{scratch}/lake/odd_table") == table_timeline
    assert spark.read.format("hudi").load(f"{scratch}/lake/odd_table__changelog").count() == 9


def test_a_bad_spec_is_reported_as_such_without_touching_the_table(scratch, remote):
    spec = spec_for(scratch, [], "batch-x")
    spec["primaryKeys"] = spec.pop("primaryKey")
    code, result = run("upsert", spec, scratch, remote, "bad")
    assert code == 1
    assert result["ok"] is False and result["errorType"] == "InvalidLakeJobSpec" and result["retryable"] is False
    assert "primaryKey" in result["error"]
    assert not storage.exists(f"{scratch}/lake/odd_table")


@pytest.mark.parametrize("table_type", ["COPY_ON_WRITE", "MERGE_ON_READ"])
def test_a_record_index_table_guards_moves_and_deletes_reading_only_the_batch_s_keys(spark, scratch, remote, table_type):
    spec = lambda files, batch: {**spec_for(scratch, files, batch), "indexType": "RECORD_INDEX", "tableType": table_type}
    first = raw_file(spark, f"{scratch}/raw/1", [change("I", i, i, f"p{i}", str(i), 1 + i % 3) for i in range(1, 9)])
    code, result = run("upsert", spec(first, "batch-1"), scratch, remote, "b1")
    assert code == 0 and result["rowsUpserted"] == 8, result
    properties = storage.read_text(f"{scratch}/lake/odd_table/.hoodie/hoodie.properties")
    assert "record_index" in next(line for line in properties.splitlines() if line.startswith("hoodie.table.metadata.partitions="))

    key_only_delete = {**change("D", 13, 5, None, None, 1), "visit_date": None}
    second = raw_file(spark, f"{scratch}/raw/2", [
        change("U", 10, 1, "moved", "100", 3),   # id 1 lives on day 2: moves to day 3
        change("U", 1, 2, "old", "0", 1),        # older than id 2's stored change (2): set aside
        change("U", 12, 3, "same day", "30", 1),
        key_only_delete,                          # a delete naming only the key (PostgreSQL's default)
        change("I", 14, 9, "new", "9", 2),
    ])
    code, result = run("upsert", spec(second, "batch-2"), scratch, remote, "b2")
    assert code == 0, result
    assert "keys" in result["stages"], "the guard read the whole table instead of the batch's keys"
    assert (result["rowsUpserted"], result["rowsDeleted"], result["rowsStale"]) == (3, 1, 1), result

    rows = spark.read.format("hudi").load(f"{scratch}/lake/odd_table").collect()
    table = {r["id"]: r for r in rows}
    assert sorted(r["id"] for r in rows) == [1, 2, 3, 4, 6, 7, 8, 9], "a key is missing, or held twice (a move left its old row)"
    assert (table[1]["dispensed_by"], table[1]["dt"]) == ("moved", "2026-12-03")
    assert table[2]["dispensed_by"] == "p2" and table[3]["dispensed_by"] == "same day"
    stale = [json.loads(line) for name in storage.list_names(f"{scratch}/_danau/batch-2/stale/") if name.endswith(".json") for line in storage.read_text(f"{scratch}/_danau/batch-2/stale/{name}").splitlines()]
    assert [(s["id"], s["stored_change_seq"]) for s in stale] == [("2", f"{2:020d}")], stale
