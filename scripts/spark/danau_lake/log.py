import sys


def log(message):
    """Progress for the job's log (stderr): never row values, only counts, keys' names and URIs."""
    print(f"lake_job: {message}", file=sys.stderr, flush=True)
