"""Pure parts: the contract check, the error classification and the sizing of a batch."""

import json

import pytest

from danau_lake import contract
from danau_lake.errors import InvalidSpec, ReplayDataMissing, classify


def test_a_spec_that_misses_a_field_is_refused_naming_it():
    with pytest.raises(InvalidSpec) as err:
        contract.check_spec("query", {"tables": [], "sql": "select 1", "resultUri": "s3://b/r.json"})
    assert "maxRows" in str(err.value)


def test_an_unknown_field_is_refused():
    spec = {"tables": [], "sql": "select 1", "maxRows": 1, "resultUri": "s3://b/r.json", "maxRow": 2}
    with pytest.raises(InvalidSpec) as err:
        contract.check_spec("query", spec)
    assert "maxRow" in str(err.value)


def test_a_well_formed_spec_passes():
    contract.check_spec("query", {"tables": [], "sql": "select 1", "maxRows": 1, "resultUri": "s3://b/r.json"})


def test_the_error_types_are_the_contract_s():
    listed = set(contract.schemas()["failure"]["properties"]["errorType"]["enum"])
    seen = {
        classify(InvalidSpec("x"))[0],
        classify(ReplayDataMissing("x"))[0],
        classify(ValueError("x"))[0],
        classify(RuntimeError("org.apache.spark.sql.AnalysisException: [UNRESOLVED_COLUMN] x"))[0],
        classify(ConnectionError("engine gone"))[0],
    }
    assert seen <= listed, seen - listed


def test_data_errors_are_final_and_engine_errors_are_retried():
    assert classify(RuntimeError("java.lang.NumberFormatException: For input string"))[1] is False
    assert classify(ReplayDataMissing("gone")) == ("ReplayDataMissing", False)
    assert classify(ConnectionError("UNAVAILABLE: failed to connect")) == ("LakeEngineError", True)
    assert json.dumps(classify(InvalidSpec("x")))


def test_the_engine_refuses_calls_that_do_not_come_from_this_machine(remote):
    """The local engine listens on every interface (Spark 3.5 cannot bind to one); its interceptor
    (scripts/spark/engine/LoopbackOnly.java) must refuse a call made to this machine's other address."""
    import socket
    import subprocess

    from pyspark.sql import SparkSession

    addresses = [a for a in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split() if ":" not in a and not a.startswith("127.")]
    if not addresses:
        pytest.skip("this machine has no address but loopback")
    port = remote.rsplit(":", 1)[1].strip("/")
    with socket.create_connection((addresses[0], int(port)), timeout=5):
        pass  # the port is open there: only the interceptor stands between it and the network
    outsider = SparkSession.builder.remote(f"sc://{addresses[0]}:{port}").create()
    try:
        with pytest.raises(Exception) as err:
            outsider.range(1).collect()
    finally:
        outsider.stop()
    assert "this machine only" in str(err.value) or "PERMISSION_DENIED" in str(err.value), str(err.value)[:500]


class _Conf:
    def __init__(self):
        self.values = {}

    def set(self, key, value):
        self.values[key] = value


class _Session:
    def __init__(self):
        self.conf = _Conf()


def test_a_large_batch_gets_tasks_in_proportion_and_a_small_one_is_left_as_it_is():
    from danau_lake.upsert import ROWS_PER_TASK, sized_for

    spec = {"batchId": "b"}
    small = _Session()
    assert sized_for(small, spec, 2 * ROWS_PER_TASK) is spec and small.conf.values == {}
    large = _Session()
    sized = sized_for(large, spec, 5_000_000)
    assert sized["parallelism"] == 5_000_000 // ROWS_PER_TASK and "parallelism" not in spec
    assert large.conf.values == {"spark.sql.shuffle.partitions": str(sized["parallelism"])}
