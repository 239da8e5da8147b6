"""The final image driven by a client we did not write: the SageMaker Python SDK 2.x, local mode.

The SDK trains, deploys and runs batch transforms with ``docker-compose`` on this machine.
What the tests arrange around it, and why:

* S3 is moto's server on 127.0.0.1 (a fixture starts and stops it); the SDK and boto3 reach
  it through ``s3_endpoint_url`` and ``AWS_ENDPOINT_URL_S3``, the containers through
  ``S3_ENDPOINT_URL`` (the SDK sets it for training; the serving tests pass it in the model's
  environment).
* Only host networking lets a container reach 127.0.0.1, and the SDK cannot ask compose for
  it: ``sdk_compose.py`` stands in for ``docker-compose`` on PATH and rewrites the SDK's
  compose file (see there). Each server listens on 127.0.0.1 at its session's
  ``local.serving_port``.
* Nothing may leave the machine: a role ARN string (no IAM), explicit ``code_location`` and
  ``output_path`` (no default bucket, so no STS), telemetry opted out in the SDK's defaults,
  no instance metadata; the test process and the containers have an HTTP(S) proxy on
  127.0.0.1 that forwards nothing and notes each request, so one to any other address fails
  here, and the last test shows that none was made.
* The image is given by its ID (IMAGE): local, so nothing is pulled.

Each endpoint serves the tests of one class and is torn down after them; local mode polls a
new container's /ping every 5 s and gives up after 120 s. Every container is removed at the
end.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import textwrap
import threading
import time
import urllib.error
import urllib.request
import uuid
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import free_port, make_samples

pytestmark = pytest.mark.filterwarnings("ignore:.*SageMaker Python SDK v2")

HERE = os.path.dirname(os.path.abspath(__file__))
REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
# A full ARN: the SDK then uses it as it is and never asks IAM.
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
BUCKET = "sdk-container-test"
# The SDK's defaults: telemetry off (else every call reports to an AWS endpoint).
SDK_DEFAULTS = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
LABEL_KEY = "ctest.sagemaker-sdk"
# The script's predict_fn adds this, so an answer shows that the user's code served it.
LABEL_OFFSET = 100
NO_PROXY = "127.0.0.1,localhost"

ENTRY_POINT = "sdk_entry.py"
ENTRY_SCRIPT = textwrap.dedent(
    f'''
    """Training script and inference hooks used through the SDK."""
    import argparse
    import glob
    import json
    import os

    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier

    LABEL_OFFSET = {LABEL_OFFSET}


    def model_fn(model_dir):
        return joblib.load(os.path.join(model_dir, "model.joblib"))


    def predict_fn(data, model):
        return model.predict(np.asarray(data, dtype=float)) + LABEL_OFFSET


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--max_depth", type=int, default=None)
        args, _ = parser.parse_known_args()
        paths = sorted(glob.glob(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "*.csv")))
        frame = pd.concat([pd.read_csv(path, header=None) for path in paths])
        X, y = frame.iloc[:, 1:].to_numpy(dtype=float), frame.iloc[:, 0].astype(int)
        model = DecisionTreeClassifier(max_depth=args.max_depth, random_state=0).fit(X, y)
        joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
        with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.json"), "w") as handle:
            json.dump({{"max_depth": args.max_depth, "rows": len(frame)}}, handle)
    '''
).lstrip()

FAIL_ENTRY_POINT = "sdk_fail.py"
FAIL_MESSAGE = "intentional failure from sdk_fail.py"
FAIL_SCRIPT = f'raise RuntimeError("{FAIL_MESSAGE}")\n'


# --- the SDK and its surroundings ------------------------------------------------------------


@pytest.fixture(scope="session")
def sdk():
    """The SDK's classes; a host without them fails here with what to do (never a skip)."""
    try:
        import boto3
        import sagemaker
        from sagemaker import deserializers, serializers
        from sagemaker.local import LocalSession
        from sagemaker.local.image import _SageMakerContainer
        from sagemaker.predictor import Predictor
        from sagemaker.sklearn import SKLearn, SKLearnModel
    except ImportError as exc:
        missing = str(exc)
    else:
        missing = None
    if missing:
        pytest.fail(
            f"the SageMaker Python SDK cannot be imported ({missing}) by {sys.executable}: run "
            "`bash tools/setup.sh` (it makes .venv from tools/container-test/requirements.txt) "
            "and run these tests with .venv/bin/python",
            pytrace=False,
        )
    return SimpleNamespace(
        boto3=boto3,
        version=sagemaker.__version__,
        LocalSession=LocalSession,
        SKLearn=SKLearn,
        SKLearnModel=SKLearnModel,
        Predictor=Predictor,
        serializers=serializers,
        deserializers=deserializers,
        container=_SageMakerContainer,
    )


@pytest.fixture(scope="session")
def image_uri(image):
    """The image ID the record names (compose takes an ID as well as a tag): no other build
    can move it while the SDK runs, as it could a tag."""
    return image


@pytest.fixture(scope="session")
def framework_version(image_config) -> str:
    """The line, from the image's version label: 1.4-2-cpu-py3 -> 1.4-2."""
    version = (image_config["Config"].get("Labels") or {}).get("org.opencontainers.image.version")
    assert version, "the image has no org.opencontainers.image.version label"
    return version.split("-cpu")[0]


@pytest.fixture(scope="session")
def moto(sdk, tmp_path_factory):
    """moto's S3 server on 127.0.0.1:<free port>, with the test bucket; stopped at the end."""
    exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if not os.access(exe, os.X_OK):
        pytest.fail(
            f"{exe} not found: run `bash tools/setup.sh` (moto[server] is in "
            "tools/container-test/requirements.txt)",
            pytrace=False,
        )
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    for _attempt in range(3):  # a port taken between free_port() and moto's bind: retry
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
            )
        if _wait_http(url, process, timeout=30):
            break
        _stop(process)
    else:
        pytest.fail(f"moto_server did not start; log:\n{log_path.read_text()[-2000:]}")
    try:
        client = sdk.boto3.client(
            "s3",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        client.create_bucket(Bucket=BUCKET)
        yield SimpleNamespace(url=url, s3=client)
    finally:
        _stop(process)


def _wait_http(url: str, process: subprocess.Popen, timeout: float) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with opener.open(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class EgressRecorder:
    """The proxy every HTTP(S) client here is given for addresses other than 127.0.0.1 and
    localhost. It never forwards: it notes the request line and hangs up, so the request
    fails here instead of leaving the machine, and a test can show that none was made."""

    def __init__(self):
        self.seen: list[str] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        threading.Thread(target=self._serve, name="egress-recorder", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed
                return
            with connection:
                connection.settimeout(2)
                try:
                    head = connection.recv(4096).split(b"\r\n", 1)[0]
                except OSError:
                    head = b""
                self.seen.append(head.decode("latin-1") or "(no request line)")

    def close(self) -> None:
        self._socket.close()


@pytest.fixture(scope="session")
def sdk_env(sdk, moto, docker, tmp_path_factory):
    """The process environment the SDK runs in (see the module's docstring); at the end,
    every container the SDK's compose made is removed."""
    real_compose = shutil.which("docker-compose")
    if real_compose is None:
        pytest.fail(
            "docker-compose not found on PATH: the SDK's local mode runs it "
            "(`apt-get install -y docker-compose`; tools/setup.sh installs it)",
            pytrace=False,
        )
    bin_dir = tmp_path_factory.mktemp("sdk-bin")
    shim = bin_dir / "docker-compose"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE}/sdk_compose.py" "$@"\n')
    shim.chmod(0o755)
    label = f"{LABEL_KEY}={os.getpid()}-{uuid.uuid4().hex[:8]}"
    egress = EgressRecorder()
    proxies = {"NO_PROXY": NO_PROXY, "no_proxy": NO_PROXY}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        proxies[name] = egress.url
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        settings = {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            # The SDK uploads code with a plain boto3 resource: this points it at moto too.
            "AWS_ENDPOINT_URL_S3": moto.url,
            "SDK_COMPOSE_REAL": real_compose,
            "SDK_COMPOSE_LABEL": label,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            # The containers get the same proxy settings.
            "SDK_COMPOSE_ENV": json.dumps(proxies),
        }
        settings.update(proxies)
        for name, value in settings.items():
            patch.setenv(name, value)
        prefix = sdk.container._get_compose_cmd_prefix()
        if prefix != ["docker-compose"] or shutil.which("docker-compose") != str(shim):
            pytest.fail(
                f"the SDK runs {prefix}, not sdk_compose.py: with Docker's compose "
                "plugin (v2) installed the SDK prefers it and its containers could not "
                "reach the S3 stand-in on 127.0.0.1",
                pytrace=False,
            )
        try:
            yield SimpleNamespace(label=label, egress=egress)
        finally:
            egress.close()
            listed = docker("ps", "-aq", "--filter", f"label={label}", timeout=60)
            for container_id in listed.stdout.decode().split():
                docker("rm", "-f", container_id, timeout=60)


@pytest.fixture(scope="session")
def new_session(sdk, sdk_env, moto, tmp_path_factory):
    """Makes a LocalSession on moto. Each has a serving port of its own: each server it
    starts (endpoint or transform) listens there, so two servers never share one."""
    root = tmp_path_factory.mktemp("sdk-containers")

    def make(local_code: bool):
        boto_session = sdk.boto3.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )
        session = sdk.LocalSession(
            boto_session=boto_session, s3_endpoint_url=moto.url, sagemaker_config=SDK_DEFAULTS
        )
        session.config = {
            "local": {
                "local_code": local_code,
                "serving_port": free_port(),
                "container_root": str(root),
            }
        }
        return session

    return make


def containers_of(docker, sdk_env, port: int | None = None) -> list[str]:
    """Running containers the SDK started; with ``port``, the one serving there."""
    listed = docker("ps", "-q", "--filter", f"label={sdk_env.label}", timeout=60)
    ids = listed.stdout.decode().split()
    if port is None:
        return ids
    found = []
    for container_id in ids:
        env = docker("inspect", "--format", "{{json .Config.Env}}", container_id, timeout=60)
        if f"SAGEMAKER_BIND_TO_PORT={port}" in json.loads(env.stdout or b"[]"):
            found.append(container_id)
    return found


def test_compose_file_is_put_on_the_host_network():
    import sdk_compose

    sdk_file = {  # the shape the SDK writes for `serve`
        "version": "2.3",
        "networks": {"sagemaker-local": {"name": "sagemaker-local"}},
        "services": {
            "algo-1-abcde": {
                "image": "preprod-sklearn:1.4-2-cpu-py3",
                "command": "serve",
                "environment": ["SAGEMAKER_PROGRAM=x.py"],
                "networks": {"sagemaker-local": {"aliases": ["algo-1-abcde"]}},
                "ports": ["41000:8080"],
            }
        },
    }
    rewritten = sdk_compose.rewrite(sdk_file, "k=v", {"HTTPS_PROXY": "http://127.0.0.1:1"})
    assert "networks" not in rewritten
    service = rewritten["services"]["algo-1-abcde"]
    assert service["network_mode"] == "host" and "networks" not in service
    assert "ports" not in service
    assert service["environment"] == [
        "SAGEMAKER_PROGRAM=x.py",
        "SAGEMAKER_BIND_TO_PORT=41000",
        "SAGEMAKER_BIND_TO_HOST=127.0.0.1",
        "HTTPS_PROXY=http://127.0.0.1:1",
    ]
    assert service["extra_hosts"] == ["algo-1-abcde:127.0.0.1"]
    assert service["labels"] == {"k": "v"}


# --- code and data ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    """Source directories and data on the host."""
    root = tmp_path_factory.mktemp("sdk-work")
    code = root / "code"
    code.mkdir()
    (code / ENTRY_POINT).write_text(ENTRY_SCRIPT)
    fail_code = root / "fail-code"
    fail_code.mkdir()
    (fail_code / FAIL_ENTRY_POINT).write_text(FAIL_SCRIPT)
    train = root / "train"
    train.mkdir()
    X, y = make_samples(per_class=30, seed=1)
    np.savetxt(train / "train.csv", np.column_stack([y, X]), delimiter=",", fmt="%.6g")
    return SimpleNamespace(root=root, code=str(code), fail_code=str(fail_code), train=str(train))


@pytest.fixture(scope="session")
def sdk_samples():
    X, y = make_samples(per_class=3, seed=7)
    return X, y + LABEL_OFFSET


def estimator(sdk, session, image_uri, framework_version, source_dir, entry_point, output):
    return sdk.SKLearn(
        entry_point=entry_point,
        source_dir=source_dir,
        image_uri=image_uri,
        framework_version=framework_version,
        role=ROLE,
        instance_type="local",
        instance_count=1,
        hyperparameters={"max_depth": 4},
        output_path=output,
        code_location=f"s3://{BUCKET}/code",
        sagemaker_session=session,
    )


def train(est, inputs: dict) -> None:
    """``fit()`` without the SDK's wait: local mode runs the whole job inside the create call,
    and the wait after it only sleeps before asking."""
    est.fit(inputs, wait=False)
    status = est.latest_training_job.describe()["TrainingJobStatus"]
    assert status == "Completed", status


def tar_members(source: str | bytes) -> dict[str, bytes]:
    """The files of a .tar.gz given by path or as bytes."""
    where = {"name": source} if isinstance(source, str) else {"fileobj": io.BytesIO(source)}
    with tarfile.open(**where) as tar:
        return {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar if m.isfile()}


def file_path(uri: str) -> str:
    assert uri.startswith("file://"), uri
    return uri[len("file://") :]


@pytest.fixture(scope="session")
def trained(sdk, new_session, image_uri, framework_version, work):
    """One training job with local code and data; its model serves the deploy tests."""
    out = work.root / "train-output"
    est = estimator(
        sdk,
        new_session(local_code=True),
        image_uri,
        framework_version,
        work.code,
        ENTRY_POINT,
        f"file://{out}",
    )
    train(est, {"train": f"file://{work.train}"})
    return est


# --- training --------------------------------------------------------------------------------


def test_training_saves_the_model_and_passes_hyperparameters(trained):
    model = tar_members(file_path(trained.model_data))
    assert "model.joblib" in model, sorted(model)
    output = os.path.join(os.path.dirname(file_path(trained.model_data)), "output.tar.gz")
    members = tar_members(output)
    report = json.loads(members["data/report.json"])
    assert report == {"max_depth": 4, "rows": 90}
    assert "failure" not in members, members["failure"]


def test_failing_training_script_raises_with_its_reason(
    sdk, new_session, image_uri, framework_version, work, capfd
):
    out = work.root / "fail-output"
    est = estimator(
        sdk,
        new_session(local_code=True),
        image_uri,
        framework_version,
        work.fail_code,
        FAIL_ENTRY_POINT,
        f"file://{out}",
    )
    with pytest.raises(RuntimeError) as raised:
        train(est, {"train": f"file://{work.train}"})
    assert "exited with code" in str(raised.value), raised.value
    assert "exited with code 0" not in str(raised.value), raised.value
    # What SageMaker would show as FailureReason: /opt/ml/output/failure, in output.tar.gz.
    failure = tar_members(str(out / "output.tar.gz")).get("failure", b"").decode()
    assert FAIL_MESSAGE in failure, failure
    assert FAIL_MESSAGE in capfd.readouterr().out  # the job's log, streamed by the SDK


# --- endpoints -------------------------------------------------------------------------------
# One endpoint per class (class-scoped fixtures): each is torn down when its class is done.

BAD_REQUESTS = [
    pytest.param(b"[[1, 2, 3, 4]", "application/json", id="malformed-json"),
    pytest.param(b"\x00\x01", "application/x-unknown", id="unsupported-content-type"),
]


def deployed(deployable, **kwargs):
    """``deploy()`` without the SDK's wait: local mode starts the container and waits for its
    /ping inside the create call, and the wait after it only sleeps (30 s) before asking."""
    predictor = deployable.deploy(
        initial_instance_count=1, instance_type="local", wait=False, **kwargs
    )
    client = predictor.sagemaker_session.sagemaker_client
    status = client.describe_endpoint(EndpointName=predictor.endpoint_name)["EndpointStatus"]
    assert status == "InService", status
    return predictor


@pytest.fixture(scope="class")
def estimator_endpoint(trained):
    """``estimator.deploy()``."""
    predictor = deployed(trained)
    yield predictor
    predictor.delete_endpoint()


@pytest.fixture(scope="class")
def model_endpoint(sdk, new_session, trained, image_uri, framework_version, work):
    """``SKLearnModel(model_data=<the training's model>).deploy()``, one worker asked for."""
    model = sdk.SKLearnModel(
        model_data=trained.model_data,
        role=ROLE,
        entry_point=ENTRY_POINT,
        source_dir=work.code,
        image_uri=image_uri,
        framework_version=framework_version,
        model_server_workers=1,
        code_location=f"s3://{BUCKET}/code",
        sagemaker_session=new_session(local_code=True),
    )
    predictor = deployed(model)
    yield predictor
    predictor.delete_endpoint()


class TestEstimatorEndpoint:
    @pytest.fixture
    def endpoint(self, estimator_endpoint):
        return estimator_endpoint

    def test_predicts_numpy(self, endpoint, sdk_samples):
        X, expected = sdk_samples
        # SKLearnPredictor's defaults: NPY in, NPY out.
        assert endpoint.predict(X).astype(int).tolist() == expected.tolist()

    def test_predicts_csv(self, sdk, endpoint, sdk_samples):
        X, expected = sdk_samples
        predictor = sdk.Predictor(
            endpoint.endpoint_name,
            sagemaker_session=endpoint.sagemaker_session,
            serializer=sdk.serializers.CSVSerializer(),
            deserializer=sdk.deserializers.CSVDeserializer(),
        )
        rows = predictor.predict(X)
        assert [int(float(value)) for row in rows for value in row] == expected.tolist()

    @pytest.mark.parametrize(("body", "content_type"), BAD_REQUESTS)
    def test_bad_request_is_a_4xx_with_a_message_and_the_endpoint_keeps_serving(
        self, endpoint, sdk_samples, body, content_type
    ):
        runtime = endpoint.sagemaker_session.sagemaker_runtime_client  # what predict() calls
        answer = runtime.invoke_endpoint(
            Body=body,
            EndpointName=endpoint.endpoint_name,
            ContentType=content_type,
            Accept="application/json",
        )["Body"]
        raw = answer.read()
        assert 400 <= answer.status < 500, (answer.status, raw)
        assert answer.headers.get("Content-Type", "").startswith("application/json"), raw
        error = json.loads(raw)
        # Upstream's servers answer {"message": ...}; that is the field clients show.
        assert isinstance(error.get("message"), str) and error["message"].strip(), error
        X, expected = sdk_samples
        assert endpoint.predict(X).astype(int).tolist() == expected.tolist()


class TestModelEndpoint:
    @pytest.fixture
    def endpoint(self, model_endpoint):
        return model_endpoint

    def test_predicts(self, endpoint, sdk_samples):
        X, expected = sdk_samples
        assert endpoint.predict(X).astype(int).tolist() == expected.tolist()

    def test_model_server_workers_is_honoured(self, docker, sdk_env, endpoint):
        port = endpoint.sagemaker_session.config["local"]["serving_port"]
        (container,) = containers_of(docker, sdk_env, port)
        top = docker("top", container, "-eo", "pid,ppid,args", check=True).stdout.decode()
        rows = [line.split(None, 2) for line in top.splitlines()[1:]]
        gunicorn = {pid: ppid for pid, ppid, args in rows if "gunicorn" in args}
        workers = [pid for pid, ppid in gunicorn.items() if ppid in gunicorn]
        # model_server_workers=1 is SAGEMAKER_MODEL_SERVER_WORKERS=1 in the container.
        assert len(workers) == 1, top


# --- batch transform -------------------------------------------------------------------------


def test_batch_transform_writes_one_prediction_per_line(
    sdk, new_session, trained, image_uri, framework_version, work, sdk_samples
):
    X, expected = sdk_samples
    data = work.root / "transform-input"
    data.mkdir()
    np.savetxt(data / "points.csv", X, delimiter=",", fmt="%.6g")
    out = work.root / "transform-output"
    model = sdk.SKLearnModel(
        model_data=trained.model_data,
        role=ROLE,
        entry_point=ENTRY_POINT,
        source_dir=work.code,
        image_uri=image_uri,
        framework_version=framework_version,
        code_location=f"s3://{BUCKET}/code",
        sagemaker_session=new_session(local_code=True),
    )
    transformer = model.transformer(
        instance_count=1,
        instance_type="local",
        output_path=f"file://{out}",
        accept="text/csv",
        assemble_with="Line",
        strategy="MultiRecord",
    )
    transformer.transform(
        f"file://{data}", content_type="text/csv", split_type="Line", wait=True, logs=False
    )
    lines = (out / "points.csv.out").read_text().split()
    assert [int(float(value)) for value in lines] == expected.tolist()


# --- code through S3 -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_trained(sdk, new_session, moto, image_uri, framework_version, work):
    """Training with local_code=False: code, data and model all go through S3."""
    session = new_session(local_code=False)
    data = session.upload_data(work.train, bucket=BUCKET, key_prefix="data/train")
    est = estimator(
        sdk, session, image_uri, framework_version, work.code, ENTRY_POINT, f"s3://{BUCKET}/output"
    )
    train(est, {"train": data})
    return est


def test_training_code_from_s3(s3_trained, moto):
    submit = json.loads(s3_trained.hyperparameters()["sagemaker_submit_directory"])
    assert submit.startswith(f"s3://{BUCKET}/code/"), submit
    assert s3_trained.model_data.startswith(f"s3://{BUCKET}/output/"), s3_trained.model_data
    key = s3_trained.model_data.split("/", 3)[3]
    body = moto.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert "model.joblib" in tar_members(body)


def s3_env(moto) -> dict[str, str]:
    return {"S3_ENDPOINT_URL": moto.url, "AWS_ENDPOINT_URL_S3": moto.url, "AWS_REGION": REGION}


def test_endpoint_code_from_s3(
    sdk, new_session, moto, trained, image_uri, framework_version, work, sdk_samples
):
    # local_code=False: the SDK uploads sourcedir.tar.gz and sets
    # SAGEMAKER_SUBMIT_DIRECTORY=s3://... for the container.
    model = sdk.SKLearnModel(
        model_data=trained.model_data,
        role=ROLE,
        entry_point=ENTRY_POINT,
        source_dir=work.code,
        image_uri=image_uri,
        framework_version=framework_version,
        code_location=f"s3://{BUCKET}/code",
        env=s3_env(moto),
        sagemaker_session=new_session(local_code=False),
    )
    predictor = deployed(model)
    try:
        assert model.uploaded_code.s3_prefix.startswith(f"s3://{BUCKET}/code/"), model.uploaded_code
        X, expected = sdk_samples  # the offset shows the script from S3 answered
        assert predictor.predict(X).astype(int).tolist() == expected.tolist()
    finally:
        predictor.delete_endpoint()


def test_endpoint_model_and_code_from_s3(s3_trained, moto, sdk_samples):
    predictor = deployed(s3_trained, env=s3_env(moto))
    try:
        X, expected = sdk_samples
        assert predictor.predict(X).astype(int).tolist() == expected.tolist()
    finally:
        predictor.delete_endpoint()


# --- last: what the runs above tried -----------------------------------------------------------


def test_nothing_tried_to_leave_the_machine(sdk_env):
    # Requests from this process and from the containers to any address but 127.0.0.1.
    assert sdk_env.egress.seen == []
