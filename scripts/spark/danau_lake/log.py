import contextlib
import sys
import time

_stages = {}


def log(message):
    """Progress for the job's log (stderr): never row values, only counts, keys' names and URIs."""
    print(f"lake_job: {message}", file=sys.stderr, flush=True)


def reset_stages():
    _stages.clear()


def stage_seconds():
    """Seconds spent per stage of this run, for the result (`stages`) and the profile in the docs."""
    return {name: round(seconds, 3) for name, seconds in _stages.items()}


@contextlib.contextmanager
def stage(name):
    started = time.time()
    try:
        yield
    finally:
        _stages[name] = _stages.get(name, 0.0) + time.time() - started


_kept = []


def keep(df):
    """df, persisted for this run only: a warm engine outlives the run, so what a run caches is
    released when it ends (release_kept), or it would pile up in the engine's memory run after run."""
    _kept.append(df.persist())
    return _kept[-1]


def release_kept():
    while _kept:
        try:
            _kept.pop().unpersist()
        except Exception:  # the engine went away: nothing left to release
            pass
