"""The timeline's own repairs, on a local folder and on the stack's object store (no Spark)."""

import pytest

from danau_lake import storage
from danau_lake.timeline import clear_interrupted_creation


@pytest.fixture(params=["local", "s3"])
def table_base(request, tmp_path, scratch):
    return str(tmp_path / "t") if request.param == "local" else f"{scratch}/t"


def put(uri, text=""):
    storage.write_text(uri, text)


def test_a_table_whose_creation_was_cut_short_is_cleared_for_the_write_to_create_it(table_base):
    # What an engine killed inside Hudi's table creation leaves: .hoodie/ and its folders, no properties.
    for folder in (".aux/.placeholder", ".temp/.placeholder", "archived/.placeholder", ".schema/.placeholder"):
        put(f"{table_base}/.hoodie/{folder}")
    assert storage.exists(f"{table_base}/.hoodie")
    assert clear_interrupted_creation(table_base) is True
    assert not storage.exists(f"{table_base}/.hoodie")
    assert clear_interrupted_creation(table_base) is False  # nothing there now: nothing to do


def test_a_whole_table_is_left_alone(table_base):
    put(f"{table_base}/.hoodie/hoodie.properties", "hoodie.table.name=t\n")
    put(f"{table_base}/.hoodie/20260101000000000.commit", "{}")
    assert clear_interrupted_creation(table_base) is False
    assert storage.exists(f"{table_base}/.hoodie/20260101000000000.commit")


def test_a_table_with_commits_but_no_properties_is_refused_not_cleared(table_base):
    put(f"{table_base}/.hoodie/20260101000000000.commit", "{}")
    with pytest.raises(RuntimeError, match="hoodie.properties"):
        clear_interrupted_creation(table_base)
    assert storage.exists(f"{table_base}/.hoodie/20260101000000000.commit")


def test_a_table_that_was_never_created_is_not_touched(table_base):
    assert clear_interrupted_creation(table_base) is False
    assert not storage.exists(table_base)
