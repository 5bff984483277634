"""The lake job's entry for spark-submit and EMR steps: `lake_job.py <command> --spec <uri>`.

The job itself is the danau_lake package beside this file (shipped to EMR as danau_lake.zip with
--py-files); the warm engine runs the same package as `python -m danau_lake … --remote sc://…`.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from danau_lake.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
