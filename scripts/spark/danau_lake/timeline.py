"""The Hudi timeline as the job needs it: completed write instants, and the commit carrying a batch id.

Every commit the job makes carries its batch id in the commit metadata (danau.batch.id), which is
what makes a rerun of a batch a no-op: the job looks for that id before it writes.
"""

import json

from . import storage
from .log import log

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


def clear_interrupted_creation(base_path):
    """Clear a table whose creation was cut short, so the next write creates it afresh.

    Hudi makes `.hoodie/` before it writes hoodie.properties; an engine killed between the two leaves
    a folder Hudi refuses to open ever again ("Could not load Hoodie properties"), and every retry of
    the batch would fail the same way. Such a table has no completed commit, so nothing is lost.
    Returns True when it cleared one. Costs one HEAD when the table is whole.
    """
    base = base_path.rstrip("/")
    meta = f"{base}/.hoodie"
    if storage.exists(f"{meta}/hoodie.properties") or storage.exists(f"{meta}/hoodie.properties.backup"):
        return False
    if not storage.exists(meta):
        return False
    if completed_instants(base):
        raise RuntimeError(f"{base}: the Hudi timeline has completed commits but no hoodie.properties (nor its backup); restore it before writing")
    log(f"{base}: its creation was interrupted (.hoodie/ without hoodie.properties, no commit); clearing it to create it afresh")
    storage.delete_tree(base)
    return True
