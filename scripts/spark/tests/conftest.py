"""The lake job's tests run the package against the stack's warm engine (DANAU_SPARK_CONNECT_URL) and
its object store, as the worker does: scripts/test.sh runs them with the venv's pytest."""

import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def remote():
    url = os.environ.get("DANAU_SPARK_CONNECT_URL")
    if not url:
        pytest.fail("DANAU_SPARK_CONNECT_URL is not set: run the tests through scripts/test.sh (or scripts/stack/spark.sh start and config/local.env)")
    return url


@pytest.fixture(scope="session")
def spark(remote):
    from pyspark.sql import SparkSession

    session = SparkSession.builder.remote(remote).create()
    yield session
    session.stop()


@pytest.fixture()
def scratch():
    """A fresh prefix in the processed bucket (s3://…/_pytest/<id>) for one test's tables and files."""
    bucket = os.environ.get("DANAU_PROCESSED_BUCKET", "danau-processed")
    return f"s3://{bucket}/_pytest/{uuid.uuid4().hex[:12]}"
