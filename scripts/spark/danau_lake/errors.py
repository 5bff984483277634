"""What the job reports when it fails, so the caller needs no guessing from Python's text.

Each failure gets an error type and whether a retry can help. The types are part of the contract
with TypeScript (lib/lake/job-contract.ts, LAKE_JOB_ERROR_TYPES).
"""


class LakeJobError(Exception):
    """A failure of the job's own making, with its type."""

    error_type = "LakeJobError"
    retryable = True


class InvalidSpec(LakeJobError):
    """The spec does not match the contract: a bug in the caller, not something a retry fixes."""

    error_type = "InvalidLakeJobSpec"
    retryable = False


class ResultBreaksContract(LakeJobError):
    """The job's own result does not match the contract: a bug in the job, which a retry repeats."""

    error_type = "LakeJobError"
    retryable = False


class ReplayDataMissing(LakeJobError):
    """The set-aside rows, or a raw file they came from, are no longer where they were."""

    error_type = "ReplayDataMissing"
    retryable = False


class IncrementalStartCleaned(LakeJobError):
    """An incremental pull from before what the cleaner keeps, with no full-scan fallback asked for."""

    error_type = "IncrementalStartCleaned"
    retryable = False


# Failures in the data or in the table's definition: the same input fails the same way again.
# Spark raises them as JVM exceptions whose class names reach Python only in the message.
_DATA_MARKERS = (
    "AnalysisException",
    "SchemaCompatibilityException",
    "Failed to merge incompatible data types",
    "NumberFormatException",
    "HoodieKeyException",
    "UNRESOLVED_COLUMN",
    "DATATYPE_MISMATCH",
    "PARSE_SYNTAX_ERROR",
)


def classify(err):
    """(error type, retryable) of any exception the job raised."""
    if isinstance(err, LakeJobError):
        return err.error_type, err.retryable
    try:
        from pyspark.errors import AnalysisException, ParseException

        if isinstance(err, (AnalysisException, ParseException)):
            return "LakeDataError", False
    except ImportError:  # pragma: no cover - pyspark is always there when the job runs
        pass
    if isinstance(err, (KeyError, ValueError, TypeError)):
        return "LakeDataError", False
    text = f"{type(err).__name__}: {err}"
    if any(marker in text for marker in _DATA_MARKERS):
        return "LakeDataError", False
    # The engine went away, the store timed out, a conflict with another writer: worth another try.
    return "LakeEngineError", True
