"""Fixtures for the container tests of the final image (preprod-sklearn).

Contract: run on the host as
    IMAGE=sha256:... IMAGE_TAG=... DOCKER_CLIENT=docker \
        python3 -m pytest -p no:cacheprovider -q -rfE images/final/container-test
Only the stdlib (urllib for HTTP) and numpy are used on the host side.

Networking: serving containers run with ``--network host`` and nginx bound to
127.0.0.1 on a free port picked per container; the tests only ever talk to
127.0.0.1. Training containers run with ``--network none``. Every container is
named with a unique prefix and removed in a finalizer.
"""

from __future__ import annotations

import io
import json
import os
import random
import shlex
import shutil
import socket
import stat
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import numpy as np
import pytest

CONTAINER_PREFIX = f"ctest-sklearn-final-{os.getpid()}-{uuid.uuid4().hex[:6]}"
TRAIN_TIMEOUT = float(os.environ.get("CONTAINER_TEST_TRAIN_TIMEOUT", "300"))
START_TIMEOUT = float(os.environ.get("CONTAINER_TEST_START_TIMEOUT", "60"))
HTTP_TIMEOUT = 30.0
LOG_TAIL = 80

# Synthetic, well separated data: 3 classes around far apart centres, 4 features.
N_FEATURES = 4
CENTRES = np.array(
    [[0.0, 0.0, 0.0, 0.0], [10.0, 10.0, 10.0, 10.0], [-10.0, 10.0, -10.0, 10.0]]
)
LABELS = np.array([0, 1, 2])


# --- docker ---------------------------------------------------------------


def _client() -> list[str]:
    return shlex.split(os.environ.get("DOCKER_CLIENT") or "docker")


@dataclass
class Docker:
    """Thin wrapper over the docker CLI named by DOCKER_CLIENT."""

    client: list[str] = field(default_factory=_client)
    created: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, timeout: float = 120, check: bool = False, input: bytes | None = None
    ) -> subprocess.CompletedProcess:
        try:
            result = subprocess.run(
                [*self.client, *args],
                check=False,
                capture_output=True,
                timeout=timeout,
                input=input,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"docker {' '.join(args)} timed out after {timeout}s") from exc
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{_text(result.stdout)}\nstderr:\n{_text(result.stderr)}"
            )
        return result

    def new_name(self, what: str) -> str:
        name = f"{CONTAINER_PREFIX}-{what}-{uuid.uuid4().hex[:6]}"
        self.created.append(name)
        return name

    def run_rm(self, image: str, *args: str, name_hint: str = "run", timeout: float = 120,
               docker_args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """``docker run --rm`` a one-off command; the container is killed on timeout."""
        name = self.new_name(name_hint)
        try:
            return self("run", "--rm", "--name", name, *docker_args, image, *args, timeout=timeout)
        finally:
            self.remove(name)

    def remove(self, name: str) -> None:
        self("rm", "-f", name, timeout=60)

    def logs(self, name: str, tail: int = LOG_TAIL) -> str:
        result = self("logs", "--tail", str(tail), name, timeout=30)
        return _text(result.stdout) + _text(result.stderr)

    def running(self, name: str) -> bool:
        result = self("inspect", "-f", "{{.State.Running}}", name, timeout=30)
        return result.returncode == 0 and _text(result.stdout).strip() == "true"


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


@pytest.fixture(scope="session")
def image() -> str:
    value = os.environ.get("IMAGE", "").strip()
    if not value:
        pytest.skip("IMAGE is not set (the image ID to test, e.g. IMAGE=sha256:...)")
    return value


@pytest.fixture(scope="session")
def docker(image):
    helper = Docker()
    if shutil.which(helper.client[0]) is None:
        pytest.skip(f"docker client {helper.client[0]!r} (DOCKER_CLIENT) not found on PATH")
    helper("image", "inspect", image, check=True, timeout=60)
    yield helper
    for name in helper.created:  # belt and braces: every container we named
        helper("rm", "-f", name, timeout=60)


@pytest.fixture(scope="session")
def image_config(docker, image) -> dict:
    result = docker("image", "inspect", image, check=True, timeout=60)
    return json.loads(result.stdout)[0]


# --- the /opt/ml tree ---------------------------------------------------------

TRAIN_SCRIPT = textwrap.dedent(
    '''
    """User training script (script mode) that also provides an inference hook."""
    import argparse
    import glob
    import json
    import os

    import joblib
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier


    def model_fn(model_dir):
        model = joblib.load(os.path.join(model_dir, "model.joblib"))
        model.loaded_by_user_model_fn = True
        return model


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--n_estimators", type=int, default=5)
        parser.add_argument("--max_depth", type=int, default=None)
        parser.add_argument("--model-dir", dest="model_dir", default=os.environ.get("SM_MODEL_DIR"))
        parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING"))
        args, unknown = parser.parse_known_args()

        files = sorted(glob.glob(os.path.join(args.train, "*.csv")))
        if not files:
            raise SystemExit("no CSV in %s" % args.train)
        frame = pd.concat([pd.read_csv(path, header=None) for path in files])
        y = frame.iloc[:, 0].astype(int)
        X = frame.iloc[:, 1:].to_numpy(dtype=float)

        model = RandomForestClassifier(
            n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=0
        )
        model.fit(X, y)
        joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))

        report = {
            "n_estimators": args.n_estimators,
            "max_depth": args.max_depth,
            "rows": int(len(frame)),
            "train_accuracy": float(model.score(X, y)),
            "unknown_args": unknown,
            "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")},
        }
        out_dir = os.environ.get("SM_OUTPUT_DATA_DIR") or "/opt/ml/output/data"
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "report.json"), "w") as handle:
            json.dump(report, handle)
        print("trained", report["train_accuracy"])
    '''
).lstrip()

FAIL_SCRIPT = textwrap.dedent(
    """
    import sys
    print("about to fail on purpose", file=sys.stderr)
    raise RuntimeError("intentional failure from fail.py")
    """
).lstrip()

HYPERPARAMETERS = {"n_estimators": "7", "max_depth": "4"}


def make_samples(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.concatenate([c + rng.normal(0, 0.5, size=(per_class, N_FEATURES)) for c in CENTRES])
    y = np.repeat(LABELS, per_class)
    return X, y


def _world_writable(root: str) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            path = os.path.join(dirpath, name)
            os.chmod(path, os.stat(path).st_mode | stat.S_IROTH | stat.S_IWOTH | stat.S_IRGRP
                     | stat.S_IWGRP)


def build_ml_tree(root: str) -> str:
    """A SageMaker-style /opt/ml tree in ``root`` (returned), world-writable."""
    for sub in ("input/config", "input/data/training", "code", "model", "output/data"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    config = os.path.join(root, "input/config")
    with open(os.path.join(config, "hyperparameters.json"), "w") as handle:
        json.dump(HYPERPARAMETERS, handle)
    with open(os.path.join(config, "inputdataconfig.json"), "w") as handle:
        json.dump(
            {
                "training": {
                    "TrainingInputMode": "File",
                    "S3DistributionType": "FullyReplicated",
                    "RecordWrapperType": "None",
                    "ContentType": "text/csv",
                }
            },
            handle,
        )
    with open(os.path.join(config, "resourceconfig.json"), "w") as handle:
        json.dump(
            {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"},
            handle,
        )
    X, y = make_samples(per_class=40, seed=1)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([y, X]), delimiter=",", fmt="%.6g")
    with open(os.path.join(root, "input/data/training/train.csv"), "w") as handle:
        handle.write(buffer.getvalue())
    with open(os.path.join(root, "code/train.py"), "w") as handle:
        handle.write(TRAIN_SCRIPT)
    with open(os.path.join(root, "code/fail.py"), "w") as handle:
        handle.write(FAIL_SCRIPT)
    _world_writable(root)
    return root


class TreeFactory:
    """Creates /opt/ml trees and removes them (with docker for root-owned files)."""

    def __init__(self, docker: Docker, image: str, base: str):
        self.docker, self.image, self.base = docker, image, base
        self.roots: list[str] = []

    def new(self, name: str) -> str:
        root = os.path.join(self.base, f"{name}-{uuid.uuid4().hex[:6]}")
        os.makedirs(root)
        self.roots.append(root)
        return build_ml_tree(root)

    def cleanup(self) -> None:
        for root in self.roots:
            if not os.path.isdir(root):
                continue
            # Files written by the container may belong to root: delete them from inside.
            self.docker.run_rm(
                self.image, "sh", "-c", "find /t -mindepth 1 -delete",
                name_hint="cleanup", timeout=120,
                docker_args=("--network", "none", "--user", "0:0", "-v", f"{root}:/t"),
            )
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def trees(docker, image, tmp_path_factory):
    factory = TreeFactory(docker, image, str(tmp_path_factory.mktemp("opt-ml")))
    yield factory
    factory.cleanup()


def run_train(docker: Docker, image: str, root: str, program: str,
              extra_env: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env_args: list[str] = []
    for item in (f"SAGEMAKER_PROGRAM={program}", "SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/code",
                 *extra_env):
        env_args += ["-e", item]
    return docker.run_rm(
        image, "train", name_hint="train", timeout=TRAIN_TIMEOUT,
        # As on SageMaker, the container is host "algo-1" (resourceconfig.json) and that
        # name resolves: sagemaker-training waits (up to 15 min) until every host resolves.
        docker_args=("--network", "none", "--hostname", "algo-1",
                     "--add-host", "algo-1:127.0.0.1", "-v", f"{root}:/opt/ml", *env_args),
    )


@dataclass
class TrainRun:
    root: str
    result: subprocess.CompletedProcess
    seconds: float

    @property
    def output(self) -> str:
        return _text(self.result.stdout) + _text(self.result.stderr)


@pytest.fixture(scope="session")
def trained(docker, image, trees) -> TrainRun:
    """One successful training run, shared by the training and serving tests."""
    root = trees.new("train-ok")
    start = time.monotonic()
    result = run_train(docker, image, root, "train.py")
    return TrainRun(root, result, time.monotonic() - start)


@pytest.fixture(scope="session")
def model_dir(trained) -> str:
    path = os.path.join(trained.root, "model", "model.joblib")
    if trained.result.returncode != 0 or not os.path.exists(path):
        pytest.fail(
            f"training failed (exit {trained.result.returncode}), no model to serve:\n"
            + trained.output[-4000:]
        )
    return os.path.join(trained.root, "model")


# --- HTTP ---------------------------------------------------------------------

# No proxies, whatever the environment says: we only ever talk to 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = HTTP_TIMEOUT) -> Response:
    assert url.startswith("http://127.0.0.1:"), url
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return Response(answer.status, {k.lower(): v for k, v in answer.headers.items()},
                            answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()},
                        error.read())


def free_port(below: int | None = None) -> int:
    """A free TCP port on 127.0.0.1; with ``below``, one under that number (the system's
    ephemeral ports, which port 0 gives, may all lie above it)."""
    candidates = [0] if below is None else random.sample(range(20000, below), 200)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise AssertionError(f"no free port between 20000 and {below}")


@dataclass
class Server:
    docker: Docker
    name: str
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = HTTP_TIMEOUT) -> Response:
        return http(method, self.base + path, body, headers, timeout)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: bytes | str | dict | list, content_type: str | None = None,
             accept: str | None = None, headers: dict | None = None) -> Response:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            content_type = content_type or "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        if accept is not None:
            all_headers["Accept"] = accept
        return self.request("POST", path, body, all_headers)

    def logs(self) -> str:
        return self.docker.logs(self.name)

    def expect(self, response: Response, status: int, what: str = "") -> Response:
        """Assert the status; on mismatch show the body and the server's log tail."""
        if response.status != status:
            raise AssertionError(
                f"{what}: expected HTTP {status}, got {response.status} "
                f"{response.body[:2000]!r}\n--- container log (tail) ---\n{self.logs()}"
            )
        return response

    def wait_ready(self, timeout: float = START_TIMEOUT) -> float:
        """Poll GET /ping until 200 (bounded in time and count); return seconds waited."""
        start = time.monotonic()
        last = "no answer"
        for _ in range(int(timeout / 0.5) + 1):
            if time.monotonic() - start > timeout:
                break
            try:
                answer = self.get("/ping", timeout=2)
                if answer.status == 200:
                    return time.monotonic() - start
                last = f"HTTP {answer.status} {answer.body[:300]!r}"
            except (OSError, urllib.error.URLError) as exc:
                last = repr(exc)
            if not self.docker.running(self.name):
                raise AssertionError(
                    f"container {self.name} exited before /ping answered 200 ({last})\n"
                    f"--- container log ---\n{self.logs()}"
                )
            time.sleep(0.5)
        raise AssertionError(
            f"GET /ping did not answer 200 within {timeout:.0f}s (last: {last})\n"
            f"--- container log ---\n{self.logs()}"
        )


def start_server(docker: Docker, image: str, name_hint: str, env: dict[str, str],
                 volumes: list[str]) -> Server:
    """``serve`` in a detached container on the host network, nginx on 127.0.0.1:<free port>."""
    last_error = ""
    for _attempt in range(3):  # a port grabbed between free_port() and nginx's bind: retry
        port = free_port()
        name = docker.new_name(name_hint)
        args = ["run", "-d", "--name", name, "--network", "host"]
        full_env = {
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_BIND_TO_HOST": "127.0.0.1",
            **env,
        }
        for key, value in full_env.items():
            args += ["-e", f"{key}={value}"]
        for volume in volumes:
            args += ["-v", volume]
        docker(*args, image, "serve", check=True, timeout=120)
        server = Server(docker, name, port)
        try:
            server.wait_ready()
            return server
        except AssertionError as exc:
            last_error = str(exc)
            logs = server.logs()
            docker.remove(name)
            if "Address already in use" not in logs:
                raise
    raise AssertionError(f"could not start {name_hint} after 3 ports:\n{last_error}")


@pytest.fixture(scope="session")
def samples() -> tuple[np.ndarray, np.ndarray]:
    """Fresh points (not the training rows) with their expected labels."""
    return make_samples(per_class=3, seed=7)
