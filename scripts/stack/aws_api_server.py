"""moto's server with one gap filled: the lifecycle of a DMS replication task.

Real DMS moves a new task from `creating` to `ready` within a minute or so; moto leaves it in
`creating` for ever (and lets it be started from there, which DMS refuses). Here a task that has
been described once while `creating` is `ready` on the next describe, so a client that polls, as
syncDmsTask does, sees DMS's real sequence. Nothing else is changed.
"""
import sys

from moto.dms import models as dms_models
from moto.server import main

_describe = dms_models.DatabaseMigrationServiceBackend.describe_replication_tasks


def describe_replication_tasks(self, filters, max_records):
    tasks = list(_describe(self, filters, max_records))
    for task in tasks:
        if task.status == "creating":
            if getattr(task, "_danau_seen_creating", False):
                task.ready()
            else:
                task._danau_seen_creating = True
    return tasks


dms_models.DatabaseMigrationServiceBackend.describe_replication_tasks = describe_replication_tasks

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
