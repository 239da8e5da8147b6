"""Run inside the Autopilot benchmark's server container (docker exec -i ... python -):
where one 100-row request's time goes, without HTTP, through the server's own hooks (its
code comes from SAGEMAKER_SUBMIT_DIRECTORY as the server's did). Prints key=value pairs
(milliseconds, medians)."""

import statistics
import time

from sagemaker_sklearn_extension.externals import read_csv_data
from sagemaker_sklearn_extension.feature_extraction import date_time

from sagemaker_sklearn_container import encoders
from sagemaker_sklearn_container.hooks import ModelHandler


def median_ms(fn, runs=100):
    fn()
    laps = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        laps.append(time.perf_counter() - start)
    return statistics.median(laps) * 1000


handler = ModelHandler.from_model_dir("/opt/ml/model", "text/csv")
model = handler.model
body = open("/tmp/bench-body.csv", "rb").read()
X = read_csv_data(source=body)
dates = [t for t in model.feature_transformer.steps[0][1].transformers_ if t[0] == "signup"][0]
vectorizer, columns = dates[1].steps[0][1], dates[2]

results = {
    "handler_ms": median_ms(lambda: handler.invoke(body, "text/csv", "text/csv")),
    "read_ms": median_ms(lambda: read_csv_data(source=body)),
    "transform_ms": median_ms(lambda: model.transform(X)),
    "dates_ms": median_ms(lambda: vectorizer.transform(X[:, columns])),
}
features = model.transform(X)
results["encode_ms"] = median_ms(lambda: encoders.encode(features, "text/csv"))
# The same answer through the csv module, one repr() a value, as every array went before.
results["encode_csv_module_ms"] = median_ms(lambda: encoders.encode(features.tolist(), "text/csv"))
# The same column through dateutil alone, as the released extension parses every value.
date_time._ISO_DATETIME = date_time._re.compile(r"(?!)")
results["dates_dateutil_ms"] = median_ms(lambda: vectorizer.transform(X[:, columns]))
print(" ".join(f"{key}={value:.2f}" for key, value in results.items()))
