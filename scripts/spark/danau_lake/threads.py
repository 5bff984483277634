"""A job's work on a second thread of its session, so two independent Hudi writes overlap.

Most of a small batch's time is Hudi waiting on the object store (listings, markers, small files),
not the CPU, so two writes to two different tables take little more than the longer of them.
Under Spark Connect an operation's tags belong to the thread that started it: the second thread
tags its operations as this job's too, so a cancel or a retried job's interrupt reaches them.
"""

import concurrent.futures

JOB_TAG = "danau-lake-job"


def tag_operations(spark):
    """Tag what this thread starts on the engine as the job's (Spark Connect only; a classic session,
    spark-submit or an EMR step, has no tags and dies with its process)."""
    if hasattr(spark, "client"):  # a Spark Connect session
        spark.addTag(JOB_TAG)


def start(spark, work):
    """work() on its own thread; returns a future (result() gives its return value or raises)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="danau-lake")

    def tagged():
        tag_operations(spark)
        return work()

    future = pool.submit(tagged)
    pool.shutdown(wait=False)
    return future


def settle(future):
    """Wait for a started piece of work, whatever it ended in (used when the main path failed)."""
    if future is not None:
        concurrent.futures.wait([future])
