"""The Autopilot-style model's data and user code, shared by its container test and the
serving benchmark (bench/serving-autopilot.sh).

The user code is two real scripts in autopilot/: ``automl_train.py`` (run by ``train``) and
``sagemaker_serve.py`` (the serving hooks, written as Autopilot's generated script is). The
rows are mixed: numbers, categories, free text and dates, some fields missing.
"""

from __future__ import annotations

import csv
import io
import os
import sys

import numpy as np

COLUMNS = ["age", "income", "outcome", "plan", "region", "review", "signup"]
TARGET = "outcome"
FEATURES = [c for c in COLUMNS if c != TARGET]
CLASSES = ["churn", "stay", "upgrade"]  # RobustLabelEncoder encodes them in sorted order

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autopilot")
TRAIN_PROGRAM = "automl_train.py"
SERVE_PROGRAM = "sagemaker_serve.py"
HYPERPARAMETERS = {"columns": ",".join(COLUMNS), "target": TARGET}


def code_files() -> dict[str, str]:
    """The user code as file name -> text, for an /opt/ml/code folder."""
    files = {}
    for name in (TRAIN_PROGRAM, SERVE_PROGRAM):
        with open(os.path.join(SCRIPTS, name), encoding="utf-8") as handle:
            files[name] = handle.read()
    return files


def make_rows(n: int, seed: int, with_target: bool = True) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    words = {
        "churn": ["slow", "expensive", "cancel", "broken", "support", "waiting"],
        "stay": ["fine", "works", "okay", "steady", "usual", "reliable"],
        "upgrade": ["love", "more", "team", "features", "growing", "fast"],
    }
    plans = {"churn": "basic", "stay": "pro", "upgrade": "team"}
    rows = []
    for i in range(n):
        label = CLASSES[i % 3]
        age = "" if i % 11 == 0 else str(int(rng.integers(18, 80)))
        income = "" if i % 7 == 0 else f"{rng.normal(50000 + 20000 * (i % 3), 3000):.2f}"
        plan = "" if i % 13 == 0 else plans[label]
        region = ["north", "south", "east", "west"][int(rng.integers(0, 4))]
        review = " ".join(rng.choice(words[label], size=4)) + (", really" if i % 5 == 0 else "")
        signup = "" if i % 17 == 0 else f"20{18 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        row = [age, income, label, plan, region, review, signup]
        if not with_target:
            del row[COLUMNS.index(TARGET)]
        rows.append(row)
    return rows


def to_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


if __name__ == "__main__":
    # python3 autopilot_data.py TRAIN_ROWS BODY_ROWS: the training CSV, a blank line, the body.
    train_rows, body_rows = (int(arg) for arg in sys.argv[1:3])
    sys.stdout.write(to_csv(make_rows(train_rows, seed=1)))
    sys.stdout.write("\n")
    sys.stdout.write(to_csv(make_rows(body_rows, seed=2, with_target=False)))
