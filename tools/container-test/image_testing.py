"""Host-side helpers shared by every image's container tests (images/*/container-test).

Each image's conftest.py calls ``configure()`` once and imports these names: its test
files import them from ``conftest``, and pytest finds the ``image`` and ``docker`` fixtures
(``image_fixture``, ``docker_fixture``) there. The tests run from a checkout with
``PYTHONPATH=tools/container-test``; the container-test executor sets it.

Contract: ``IMAGE`` names the image to test (its ID), ``DOCKER_CLIENT`` the docker CLI
(default ``docker``). ``CONTAINER_TEST_TRAIN_TIMEOUT`` and ``CONTAINER_TEST_START_TIMEOUT``
(seconds) bound a training run and a server's start.

Networking: training containers run with ``--network none`` and an /opt/ml tree mounted;
servers run with ``--network host``, nginx bound to 127.0.0.1 on a free port picked per
container, and the tests only ever talk to 127.0.0.1. Every container gets a unique name
(the image kind's prefix) and is removed at the end.

The standard library and pytest only.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import shutil
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import pytest

TRAIN_TIMEOUT = float(os.environ.get("CONTAINER_TEST_TRAIN_TIMEOUT", "300"))
LOG_TAIL = 80


# --- per image kind -------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    prefix: str  # of every container name: the image kind, this process and a random part
    start_timeout: float  # until a server's GET /ping answers 200
    http_timeout: float  # of one request to a server


_settings: Settings | None = None


def configure(kind: str, *, start_timeout: float, http_timeout: float) -> Settings:
    """Called once by the image's conftest.py; CONTAINER_TEST_START_TIMEOUT overrides the
    start timeout."""
    global _settings
    _settings = Settings(
        prefix=f"ctest-sklearn-{kind}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        start_timeout=float(os.environ.get("CONTAINER_TEST_START_TIMEOUT", start_timeout)),
        http_timeout=http_timeout,
    )
    return _settings


def settings() -> Settings:
    if _settings is None:
        raise RuntimeError(
            "image_testing.configure() was not called: the image's container-test/conftest.py "
            "must call it when it is imported"
        )
    return _settings


# --- docker ---------------------------------------------------------------------------


def text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def _client() -> list[str]:
    return shlex.split(os.environ.get("DOCKER_CLIENT") or "docker")


@dataclass
class Docker:
    """The docker CLI named by DOCKER_CLIENT; remembers the container names it hands out."""

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
                f"stdout:\n{text(result.stdout)}\nstderr:\n{text(result.stderr)}"
            )
        return result

    def new_name(self, what: str) -> str:
        name = f"{settings().prefix}-{what}-{uuid.uuid4().hex[:6]}"
        self.created.append(name)
        return name

    def run_rm(
        self,
        image: str,
        *args: str,
        name_hint: str = "run",
        timeout: float = 120,
        docker_args: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess:
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
        return text(result.stdout) + text(result.stderr)

    def running(self, name: str) -> bool:
        result = self("inspect", "-f", "{{.State.Running}}", name, timeout=30)
        return result.returncode == 0 and text(result.stdout).strip() == "true"


# Named in the decorator, so a conftest can import them without shadowing its parameters.
@pytest.fixture(scope="session", name="image")
def image_fixture() -> str:
    value = os.environ.get("IMAGE", "").strip()
    if not value:
        pytest.skip("IMAGE is not set (the image ID to test, e.g. IMAGE=sha256:...)")
    return value


@pytest.fixture(scope="session", name="docker")
def docker_fixture(image):
    helper = Docker()
    if shutil.which(helper.client[0]) is None:
        pytest.skip(f"docker client {helper.client[0]!r} (DOCKER_CLIENT) not found on PATH")
    helper("image", "inspect", image, check=True, timeout=60)
    yield helper
    for name in helper.created:  # belt and braces: every container we named
        helper("rm", "-f", name, timeout=60)


# --- training: an /opt/ml tree and `train` --------------------------------------------


def world_writable(root: str) -> None:
    """Lets the container's user write the model and output into a tree made on the host."""
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o777)
        for name in filenames:
            path = os.path.join(dirpath, name)
            mode = os.stat(path).st_mode
            os.chmod(path, mode | stat.S_IROTH | stat.S_IWOTH | stat.S_IRGRP | stat.S_IWGRP)


def make_ml_tree(
    root: str,
    code: dict[str, str],
    data: dict[str, str],
    hyperparameters: dict[str, str] | None = None,
) -> str:
    """A SageMaker /opt/ml tree in ``root`` (returned): one 'training' channel (File mode,
    text/csv) holding ``data``, the script files ``code``, world-writable."""
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
    world_writable(root)
    return root


def remove_tree(docker: Docker, image: str, root: str) -> None:
    """Removes a tree that containers wrote into: their files may belong to root, so they
    are deleted from inside a container first."""
    if not os.path.isdir(root):
        return
    docker.run_rm(
        image,
        "sh",
        "-c",
        "find /t -mindepth 1 -delete",
        name_hint="cleanup",
        timeout=120,
        docker_args=("--network", "none", "--user", "0:0", "-v", f"{root}:/t"),
    )
    shutil.rmtree(root, ignore_errors=True)


def run_train(
    docker: Docker, image: str, root: str, program: str, extra_env: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """``docker run IMAGE train`` as SageMaker does: script mode, host algo-1, no network."""
    env_args: list[str] = []
    for item in (
        f"SAGEMAKER_PROGRAM={program}",
        "SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/code",
        *extra_env,
    ):
        env_args += ["-e", item]
    return docker.run_rm(
        image,
        "train",
        name_hint="train",
        timeout=TRAIN_TIMEOUT,
        # As on SageMaker, the container is host "algo-1" (resourceconfig.json) and that
        # name resolves: sagemaker-training waits until every host of the job resolves.
        docker_args=(
            "--network",
            "none",
            "--hostname",
            "algo-1",
            "--add-host",
            "algo-1:127.0.0.1",
            "-v",
            f"{root}:/opt/ml",
            *env_args,
        ),
    )


# --- serving: HTTP to `serve` on 127.0.0.1 --------------------------------------------

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


def http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float | None = None,
) -> Response:
    """One request (an HTTP error status is a Response too); ``timeout`` defaults to the
    image kind's."""
    assert url.startswith("http://127.0.0.1:"), url
    if timeout is None:
        timeout = settings().http_timeout
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return Response(
                answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
            )
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


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

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float | None = None,
    ) -> Response:
        return http(method, self.base + path, body, headers, timeout)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(
        self,
        path: str,
        body: bytes | str | dict | list,
        content_type: str | None = None,
        accept: str | None = None,
        headers: dict | None = None,
    ) -> Response:
        """A dict or list body is sent as JSON (application/json unless ``content_type``)."""
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

    def wait_ready(self, timeout: float | None = None) -> float:
        """Poll GET /ping until 200 (bounded in time and count), failing early if the
        container exits; return the seconds waited. ``timeout`` defaults to the kind's."""
        if timeout is None:
            timeout = settings().start_timeout
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
            except OSError as exc:  # urllib's URLError included
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


def start_server(
    docker: Docker, image: str, name_hint: str, env: dict[str, str], volumes: list[str]
) -> Server:
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
