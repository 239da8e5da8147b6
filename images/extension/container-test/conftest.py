"""Shared helpers for the extension image's container tests (training and serving runs).

The same contract as the final image's tests (images/final/container-test/conftest.py),
trimmed to what these tests use: ``IMAGE`` names the image, ``DOCKER_CLIENT`` the docker
CLI. Training runs with ``--network none`` and an /opt/ml tree mounted; servers run on
the host network bound to 127.0.0.1 on a free port, and the tests talk only to
127.0.0.1. Every container gets a unique name and is removed at the end.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field

import pytest

PREFIX = f"ctest-sklearn-ext-{os.getpid()}-{uuid.uuid4().hex[:6]}"
TRAIN_TIMEOUT = float(os.environ.get("CONTAINER_TEST_TRAIN_TIMEOUT", "300"))
START_TIMEOUT = float(os.environ.get("CONTAINER_TEST_START_TIMEOUT", "90"))
HTTP_TIMEOUT = 60.0


def text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


@dataclass
class Docker:
    """The docker CLI (DOCKER_CLIENT); remembers the names it hands out."""

    client: list[str] = field(
        default_factory=lambda: shlex.split(os.environ.get("DOCKER_CLIENT") or "docker")
    )
    names: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, timeout: float = 120, check: bool = False, input: bytes | None = None
    ):
        try:
            result = subprocess.run(
                [*self.client, *args],
                capture_output=True,
                timeout=timeout,
                check=False,
                input=input,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                f"docker {' '.join(args[:6])} ... timed out after {timeout}s"
            ) from exc
        if check and result.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {result.returncode}\n{text(result.stderr)}"
            )
        return result

    def new_name(self, what: str) -> str:
        name = f"{PREFIX}-{what}-{uuid.uuid4().hex[:6]}"
        self.names.append(name)
        return name

    def remove(self, name: str) -> None:
        self("rm", "-f", name, timeout=60)

    def logs(self, name: str, tail: int = 80) -> str:
        result = self("logs", "--tail", str(tail), name, timeout=30)
        return text(result.stdout) + text(result.stderr)

    def running(self, name: str) -> bool:
        result = self("inspect", "-f", "{{.State.Running}}", name, timeout=30)
        return result.returncode == 0 and text(result.stdout).strip() == "true"


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
    for name in helper.names:
        helper("rm", "-f", name, timeout=60)


# --- training: an /opt/ml tree and `train` ----------------------------------------


def make_ml_tree(
    root: str,
    code: dict[str, str],
    data: dict[str, str],
    hyperparameters: dict[str, str] | None = None,
) -> str:
    """A SageMaker /opt/ml tree: one 'training' channel (File mode, text/csv), world-writable
    so the container's user can write the model and output."""
    for sub in ("input/config", "input/data/training", "code", "model", "output/data"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    config = {
        "hyperparameters.json": hyperparameters or {},
        "inputdataconfig.json": {
            "training": {
                "TrainingInputMode": "File",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None",
                "ContentType": "text/csv",
            }
        },
        "resourceconfig.json": {
            "current_host": "algo-1",
            "hosts": ["algo-1"],
            "network_interface_name": "eth0",
        },
    }
    for filename, content in config.items():
        with open(os.path.join(root, "input/config", filename), "w") as handle:
            json.dump(content, handle)
    for folder, files in (("code", code), ("input/data/training", data)):
        for filename, content in files.items():
            with open(os.path.join(root, folder, filename), "w") as handle:
                handle.write(content)
    for directory, _dirs, files in os.walk(root):
        os.chmod(directory, 0o777)
        for filename in files:
            path = os.path.join(directory, filename)
            os.chmod(path, os.stat(path).st_mode | stat.S_IROTH | stat.S_IWOTH)
    return root


@pytest.fixture(scope="session")
def ml_root(docker, image, tmp_path_factory):
    """A folder for /opt/ml trees; what containers wrote there (as root) is removed from inside."""
    base = str(tmp_path_factory.mktemp("opt-ml"))
    yield base
    name = docker.new_name("cleanup")
    docker(
        "run",
        "--rm",
        "--name",
        name,
        "--network",
        "none",
        "--user",
        "0:0",
        "-v",
        f"{base}:/t",
        image,
        "sh",
        "-c",
        "find /t -mindepth 1 -delete",
        timeout=120,
    )
    shutil.rmtree(base, ignore_errors=True)


def run_train(docker: Docker, image: str, root: str, program: str):
    """`docker run IMAGE train` as SageMaker does: script mode, host algo-1, no network."""
    name = docker.new_name("train")
    try:
        return docker(
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "none",
            "--hostname",
            "algo-1",
            # sagemaker-training waits until every host in resourceconfig.json resolves.
            "--add-host",
            "algo-1:127.0.0.1",
            "-v",
            f"{root}:/opt/ml",
            "-e",
            f"SAGEMAKER_PROGRAM={program}",
            "-e",
            "SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/code",
            image,
            "train",
            timeout=TRAIN_TIMEOUT,
        )
    finally:
        docker.remove(name)


# --- serving: `serve` on 127.0.0.1 ----------------------------------------------------

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    docker: Docker
    name: str
    port: int

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float = HTTP_TIMEOUT,
    ) -> Response:
        url = f"http://127.0.0.1:{self.port}{path}"
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with _OPENER.open(req, timeout=timeout) as answer:
                return Response(
                    answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
                )
        except urllib.error.HTTPError as error:
            return Response(
                error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
            )

    def post(
        self, path: str, body: str | bytes, content_type: str, accept: str | None = None
    ) -> Response:
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        return self.request("POST", path, body.encode() if isinstance(body, str) else body, headers)

    def expect(self, response: Response, status: int, what: str) -> Response:
        if response.status != status:
            raise AssertionError(
                f"{what}: expected HTTP {status}, got {response.status} {response.body[:2000]!r}\n"
                f"--- container log (tail) ---\n{self.docker.logs(self.name)}"
            )
        return response

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Poll GET /ping until 200, bounded in time; fail early if the container exits."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                answer = self.request("GET", "/ping", timeout=2)
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status} {answer.body[:300]!r}"
            except OSError as exc:
                last = repr(exc)
            if not self.docker.running(self.name):
                raise AssertionError(
                    f"{self.name} exited before /ping answered ({last})\n"
                    + self.docker.logs(self.name)
                )
            time.sleep(0.5)
        raise AssertionError(
            f"/ping did not answer 200 within {timeout:.0f}s ({last})\n"
            + self.docker.logs(self.name)
        )


def start_server(
    docker: Docker, image: str, hint: str, env: dict[str, str], volumes: list[str]
) -> Server:
    """`serve` detached on the host network, nginx on 127.0.0.1:<free port>."""
    last = ""
    for _attempt in range(3):  # a port taken between free_port() and nginx's bind: retry
        port = free_port()
        name = docker.new_name(hint)
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
        docker(*args, image, "serve", check=True)
        server = Server(docker, name, port)
        try:
            server.wait_ready()
            return server
        except AssertionError as exc:
            last = str(exc)
            logs = docker.logs(name)
            docker.remove(name)
            if "Address already in use" not in logs:
                raise
    raise AssertionError(f"could not start {hint} on any of 3 ports:\n{last}")


# --- pytest inside the image, without changing it -------------------------------------


def pip(*args: str, cwd: str) -> None:
    """The host's pip (of the interpreter running these tests), for hash-checked downloads."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"pip {' '.join(args)} (with {sys.executable}) exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


@pytest.fixture(scope="session")
def mounted_pytest(tmp_path_factory) -> str:
    """pytest and its dependencies (suite-requirements.txt, hash-checked), unpacked into a
    folder to mount read-only on the container's PYTHONPATH."""
    work = tmp_path_factory.mktemp("pytest-site")
    here = os.path.dirname(os.path.abspath(__file__))
    pip(
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--require-hashes",
        "-r",
        os.path.join(here, "suite-requirements.txt"),
        "-d",
        str(work / "wheels"),
        cwd=str(work),
    )
    site = work / "site"
    for wheel in sorted((work / "wheels").glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
    return str(site)
