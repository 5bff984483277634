"""The job's contract with TypeScript: contract.schema.json, generated from the zod schemas in
lib/lake/job-contract.ts (`npm run build` writes it; a unit test fails when the two differ).

Specs are checked on arrival (a spec that does not match is InvalidSpec, not a KeyError halfway in),
and results before they are written.
"""

import functools
import json
import os

from .errors import InvalidSpec, ResultBreaksContract

COMMANDS = ("upsert", "replay", "query", "export")
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "contract.schema.json")


@functools.lru_cache(maxsize=1)
def schemas():
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        return json.load(f)


def _check(schema, value, what):
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    problems = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if problems:
        where = lambda e: ".".join(str(p) for p in e.absolute_path) or "(top level)"
        raise InvalidSpec(f"{what} does not match the contract: " + "; ".join(f"{where(e)}: {e.message[:200]}" for e in problems[:5]))


def check_spec(command, spec):
    if command not in COMMANDS:
        raise InvalidSpec(f"unknown command {command!r} (one of {', '.join(COMMANDS)})")
    _check(schemas()["specs"][command], spec, f"the {command} spec")


def check_result(command, result):
    try:
        _check(schemas()["results"][command], result, f"the {command} result")
    except InvalidSpec as err:
        # The job's own result is wrong: a bug here, reported as such.
        raise ResultBreaksContract(str(err)) from None
