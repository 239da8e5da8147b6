"""Fixture for bench/serving-autopilot.sh: the Autopilot-style model's /opt/ml tree and body.

Usage: python3 autopilot_fixture.py OUT_DIR TRAIN_ROWS BODY_ROWS
Writes OUT_DIR/ml (an /opt/ml tree for `train`: the container test's scripts, TRAIN_ROWS
mixed rows in the training channel, the header as hyperparameters), OUT_DIR/code (the
serving script alone, for the sourcedir tarball) and OUT_DIR/body.csv (BODY_ROWS rows
without the target).
"""

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [
    os.path.join(ROOT, "images/extension/container-test"),
    os.path.join(ROOT, "tools/container-test"),
]

from autopilot_data import (  # noqa: E402
    HYPERPARAMETERS,
    SCRIPTS,
    SERVE_PROGRAM,
    code_files,
    make_rows,
    to_csv,
)
from image_testing import make_ml_tree  # noqa: E402


def main() -> int:
    out, train_rows, body_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    make_ml_tree(
        os.path.join(out, "ml"),
        code=code_files(),
        data={"train.csv": to_csv(make_rows(train_rows, seed=1))},
        hyperparameters=HYPERPARAMETERS,
    )
    os.makedirs(os.path.join(out, "code"))
    shutil.copy(os.path.join(SCRIPTS, SERVE_PROGRAM), os.path.join(out, "code"))
    with open(os.path.join(out, "body.csv"), "w", encoding="utf-8") as handle:
        handle.write(to_csv(make_rows(body_rows, seed=2, with_target=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
