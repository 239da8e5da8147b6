"""Fits an Autopilot-style AutoMLTransformer on the training channel's headerless CSV.

The column names and the target come as hyperparameters (``--columns a,b,c --target b``).
"""

import argparse
import json
import os
import shutil

import joblib
from sagemaker_sklearn_extension.externals import AutoMLTransformer, Header, read_csv_data
from sagemaker_sklearn_extension.feature_extraction.date_time import DateTimeVectorizer
from sagemaker_sklearn_extension.feature_extraction.text import MultiColumnTfidfVectorizer
from sagemaker_sklearn_extension.impute import RobustImputer
from sagemaker_sklearn_extension.preprocessing import (
    RobustLabelEncoder,
    RobustOrdinalEncoder,
    RobustStandardScaler,
    ThresholdOneHotEncoder,
)
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline


def feature_transformer(header):
    at = header.as_feature_indices
    columns = ColumnTransformer(
        [
            ("numeric", RobustImputer(strategy="median"), at(["age", "income"])),
            ("plan", ThresholdOneHotEncoder(threshold=2), at(["plan"])),
            ("region", RobustOrdinalEncoder(), at(["region"])),
            ("review", MultiColumnTfidfVectorizer(max_features=20), at(["review"])),
            # a missing date vectorizes to NaN: impute it, as Autopilot's pipelines do
            (
                "signup",
                Pipeline([("vectorize", DateTimeVectorizer()), ("impute", RobustImputer())]),
                at(["signup"]),
            ),
        ],
        sparse_threshold=0.0,
    )
    return Pipeline([("columns", columns), ("scale", RobustStandardScaler())])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", required=True)
    parser.add_argument("--target", required=True)
    args, _ = parser.parse_known_args()
    header = Header(column_names=args.columns.split(","), target_column_name=args.target)
    channel = os.environ["SM_CHANNEL_TRAINING"]
    X, y = read_csv_data(source=channel, target_column_index=header.target_column_index)
    model = AutoMLTransformer(
        header=header,
        feature_transformer=feature_transformer(header),
        target_transformer=RobustLabelEncoder(),
    ).fit(X, y)
    model_dir = os.environ["SM_MODEL_DIR"]
    joblib.dump(model, os.path.join(model_dir, "model.joblib"))
    # As in Autopilot's model artifacts, the serving script travels with the model.
    os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "sagemaker_serve.py"), os.path.join(model_dir, "code"))
    report = {
        "rows": int(X.shape[0]),
        "n_features_out": int(model.transform(X[:3]).shape[1]),
        "classes": [str(c) for c in model.target_transformer.classes_],
    }
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.json"), "w") as handle:
        json.dump(report, handle)
    print("fitted", report)
