"""Fixture for bench/serving.sh: a model dir and a request body.

Usage: python3 make_model.py OUT_DIR [ROWS]
Writes OUT_DIR/model/model.joblib (RandomForestClassifier, default
hyper-parameters, i.e. 100 trees, trained on 2,000 synthetic rows with
10 features) and OUT_DIR/body.csv (ROWS rows, default 100, no header).
bench/serving.sh runs it inside the image it measures, so the pickle is
made by the scikit-learn that loads it.
"""

import os
import sys

import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier


def main() -> int:
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    x, y = make_classification(
        n_samples=2000, n_features=10, n_informative=6, random_state=0
    )
    model = RandomForestClassifier(random_state=0).fit(x, y)
    os.makedirs(os.path.join(out, "model"), exist_ok=True)
    joblib.dump(model, os.path.join(out, "model", "model.joblib"))
    body = np.random.default_rng(1).normal(size=(rows, x.shape[1]))
    np.savetxt(os.path.join(out, "body.csv"), body, delimiter=",", fmt="%.6f")
    print(f"trees={len(model.estimators_)} features={x.shape[1]} rows={rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
