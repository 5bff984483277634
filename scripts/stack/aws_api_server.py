"""moto's server with two gaps filled: the lifecycle of a DMS replication task and of an EMR step.

DMS: real DMS moves a new task from `creating` to `ready` within a minute or so; moto leaves it in
`creating` for ever (and lets it be started from there, which DMS refuses). Here a task that has
been described once while `creating` is `ready` on the next describe, so a client that polls, as
syncDmsTask does, sees DMS's real sequence.

EMR: an EMR cluster cannot run on this machine, and moto never runs a step: it stays PENDING or
RUNNING for ever, and moto 5.2.5 has no CancelSteps at all (the server answers 500). So the step
lifecycle is simulated here, just far enough for EmrStepRunner (lib/spark/emr.ts) to be tested
through the real SDK client; the Spark job itself is tested with local Spark (LocalSparkRunner).
A step shows each state on one DescribeStep and moves on at the next: PENDING -> RUNNING -> the
outcome its arguments name with `--danau-test-outcome=<STATE>` (COMPLETED when absent; FAILED
also sets FailureDetails with a LogFile under the cluster's LogUri, as EMR does; RUNNING keeps it
running). CancelSteps moves a PENDING or RUNNING step to CANCEL_PENDING, then CANCELLED on the
next DescribeStep. ListSteps never moves a step. Nothing else is changed.
"""
import sys

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.dms import models as dms_models
from moto.emr import models as emr_models
from moto.emr.responses import ElasticMapReduceResponse
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

# ---------------------------------------------------------------------------------------------
# EMR steps

_OUTCOME_MARKER = "--danau-test-outcome="
_STEP_ENDED = {"COMPLETED", "FAILED", "CANCELLED", "INTERRUPTED"}


def _step_outcome(step):
    for arg in step.args:
        if isinstance(arg, str) and arg.startswith(_OUTCOME_MARKER):
            return arg[len(_OUTCOME_MARKER):]
    return "COMPLETED"


def _end_step(cluster, step, state):
    step.state = state
    step.end_date_time = utcnow()
    if state == "FAILED":
        # What EMR reports for a spark-submit in cluster mode whose application failed.
        step._danau_failure_details = {
            "Reason": "Simulated step failure (--danau-test-outcome=FAILED)",
            "Message": "Exception in thread \"main\" org.apache.spark.SparkException: Application finished with failed status",
            **({"LogFile": f"{cluster.log_uri}{cluster.id}/steps/{step.id}/stderr.gz"} if cluster.log_uri else {}),
        }


def _advance_step(cluster, step):
    if step.state in _STEP_ENDED:
        return
    if getattr(step, "_danau_seen", None) != step.state:
        step._danau_seen = step.state  # shown once in this state; it moves at the next describe
        return
    if step.state == "PENDING":
        step.state = "RUNNING"
        step.start()
    elif step.state == "CANCEL_PENDING":
        _end_step(cluster, step, "CANCELLED")
    elif step.state == "RUNNING" and _step_outcome(step) != "RUNNING":
        _end_step(cluster, step, _step_outcome(step))
    step._danau_seen = step.state


_describe_step = emr_models.ElasticMapReduceBackend.describe_step


def describe_step(self, cluster_id, step_id):
    step = _describe_step(self, cluster_id, step_id)
    if step is not None:
        _advance_step(self.clusters[cluster_id], step)
    return step


def cancel_steps(self, cluster_id, step_ids):
    cluster = self.describe_cluster(cluster_id)
    by_id = {s.id: s for s in cluster.steps}
    infos = []
    for step_id in step_ids:
        step = by_id.get(step_id)
        if step is None:
            infos.append({"StepId": step_id, "Status": "FAILED", "Reason": f"Step {step_id} does not exist"})
        elif step.state in ("PENDING", "RUNNING"):
            step.state = "CANCEL_PENDING"
            infos.append({"StepId": step_id, "Status": "SUBMITTED"})
        else:
            infos.append({"StepId": step_id, "Status": "FAILED", "Reason": f"Step is {step.state}"})
    return infos


def cancel_steps_response(self):
    infos = self.backend.cancel_steps(self._get_param("ClusterId"), self._get_param("StepIds", []))
    return ActionResult({"CancelStepsInfoList": infos})


_step_status = emr_models.Step.status


def _step_status_with_failure(self):
    status = _step_status.fget(self)
    failure = getattr(self, "_danau_failure_details", None)
    if failure:
        status["FailureDetails"] = failure
    return status


emr_models.ElasticMapReduceBackend.describe_step = describe_step
emr_models.ElasticMapReduceBackend.cancel_steps = cancel_steps
emr_models.Step.status = property(_step_status_with_failure)
ElasticMapReduceResponse.cancel_steps = cancel_steps_response

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
