"""The Hudi timeline as the job needs it: completed write instants, and the commit carrying a batch id.

Every commit the job makes carries its batch id in the commit metadata (danau.batch.id), which is
what makes a rerun of a batch a no-op: the job looks for that id before it writes.
"""

import json

from . import storage

BATCH_KEY = "danau.batch.id"
# A replay's figures, in its commit's metadata: a rerun that finds the commit reports them.
FIGURES_KEY = "danau.figures"
COMPLETED_SUFFIXES = (".commit", ".deltacommit", ".replacecommit")


def completed_instants(base_path):
    """Completed write instants on the active timeline, oldest first: [(instant, file name)]."""
    found = []
    for name in storage.list_names(f"{base_path.rstrip('/')}/.hoodie"):
        for suffix in COMPLETED_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)].isdigit():
                found.append((name[: -len(suffix)], name))
    return sorted(found)


def commit_of_batch(base_path, batch_id, look_back=200, instants=None):
    """(instant, extra metadata) of the commit that carries this batch id, or (None, {}) (newest first)."""
    timeline = f"{base_path.rstrip('/')}/.hoodie"
    listed = completed_instants(base_path) if instants is None else instants
    for instant, name in reversed(listed[-look_back:]):
        try:
            meta = json.loads(storage.read_text(f"{timeline}/{name}") or "{}")
        except ValueError:
            continue  # not JSON (an empty or Avro-encoded instant): not one of ours
        extra = meta.get("extraMetadata") or {}
        if extra.get(BATCH_KEY) == batch_id:
            return instant, extra
    return None, {}


def instant_of_batch(base_path, batch_id, look_back=200, instants=None):
    """The instant whose commit metadata carries this batch id, or None."""
    return commit_of_batch(base_path, batch_id, look_back, instants)[0]
