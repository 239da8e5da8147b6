"""`serve` (and `train`) with user code delivered every way SageMaker and its SDK deliver it.

SAGEMAKER_SUBMIT_DIRECTORY as a mounted directory, a local .tar.gz inside the container,
an s3:// URI (served by moto's S3 server on 127.0.0.1, the only stand-in: for AWS), and
code inside the model archive (/opt/ml/model/code; <url>/code per model in multi-model
mode). Bad input ends the container with a UserError naming the URI.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

import pytest
from conftest import _world_writable, free_port, start_server

# A hook whose effect is visible: labels shifted by OFFSET.
SCRIPT = "def predict_fn(data, model):\n    return model.predict(data) + {offset}\n"
FAKE_REGION = "xx-fake-1"


def _csv(X) -> str:
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in X) + "\n"


def _tarball(path: str, files: dict[str, str], evil: bool = False) -> str:
    """A sourcedir.tar.gz as the SDK makes it: the files at the archive's root."""
    with tarfile.open(path, "w:gz") as archive:
        members = dict(files)
        if evil:
            members["../escaped.py"] = "X = 1\n"
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def workdir(trees, model_dir):
    """A world-readable tree: model/ (model.joblib), a code dir, tarballs, models/ for MME."""
    root = trees.new("code-delivery")
    model = os.path.join(root, "model")
    shutil.copy(os.path.join(model_dir, "model.joblib"), model)
    code = os.path.join(root, "user_code")
    os.makedirs(code)
    with open(os.path.join(code, "serve_me.py"), "w") as handle:
        handle.write(SCRIPT.format(offset=100))
    tarballs = os.path.join(root, "tarballs")
    os.makedirs(tarballs)
    _tarball(os.path.join(tarballs, "user_code.tar.gz"), {"script.py": SCRIPT.format(offset=200)})
    _tarball(os.path.join(tarballs, "evil.tar.gz"), {"script.py": "X = 1\n"}, evil=True)
    with open(os.path.join(tarballs, "corrupt.tar.gz"), "wb") as handle:
        handle.write(b"\x1f\x8b\x08\x00 not really gzip")
    # Code inside the model archive, as the SDK repacks it (model.tar.gz: model + code/).
    packed = os.path.join(root, "packed-model")
    os.makedirs(os.path.join(packed, "code"))
    shutil.copy(os.path.join(model_dir, "model.joblib"), packed)
    with open(os.path.join(packed, "code", "inference.py"), "w") as handle:
        handle.write(SCRIPT.format(offset=300))
    # Multi-model: m1 takes the container's tarball code, m2 has code/ of its own.
    for name in ("m1", "m2"):
        os.makedirs(os.path.join(root, "models", name))
        shutil.copy(os.path.join(model_dir, "model.joblib"), os.path.join(root, "models", name))
    os.makedirs(os.path.join(root, "models", "m2", "code"))
    with open(os.path.join(root, "models", "m2", "code", "script.py"), "w") as handle:
        handle.write(SCRIPT.format(offset=400))
    _world_writable(root)
    return root


@contextlib.contextmanager
def _served(docker, image, name, env, volumes):
    server = start_server(docker, image, name, env={"SAGEMAKER_NUM_MODEL_WORKERS": "2", **env},
                          volumes=volumes)
    try:
        yield server
    finally:
        docker.remove(server.name)


def _expect_labels(server, samples, offset, path="/invocations", headers=None):
    X, y = samples
    for _ in range(4):  # reach both workers
        answer = server.expect(
            server.post(path, _csv(X), "text/csv", accept="application/json", headers=headers),
            200, f"invoke {path}",
        )
        assert answer.json() == (y + offset).tolist(), answer.body[:500]


def test_directory_mount(docker, image, workdir, samples):
    with _served(docker, image, "cd-dir",
                 {"SAGEMAKER_PROGRAM": "serve_me.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/user_code"},
                 [f"{workdir}/model:/opt/ml/model:ro",
                  f"{workdir}/user_code:/user_code:ro"]) as server:
        _expect_labels(server, samples, 100)


def test_local_tarball_inside_the_container(docker, image, workdir, samples):
    with _served(docker, image, "cd-tar",
                 {"SAGEMAKER_PROGRAM": "script.py",
                  "SAGEMAKER_SUBMIT_DIRECTORY": "/user_module/user_code.tar.gz"},
                 [f"{workdir}/model:/opt/ml/model:ro",
                  f"{workdir}/tarballs:/user_module:ro"]) as server:
        _expect_labels(server, samples, 200)
        # Unpacked once, before the workers started, into the runtime dir, atomically.
        listing = docker("exec", server.name, "sh", "-c",
                         "ls -A /tmp/sagemaker_sklearn_container/code; "
                         "ls /tmp/sagemaker_sklearn_container/code/*/", check=True)
        lines = listing.stdout.decode().split()
        assert len(lines) == 2 and len(lines[0]) == 64 and lines[1] == "script.py", lines


def test_code_inside_the_model_archive(docker, image, workdir, samples):
    # What the SDK sets for a repacked model (and with network isolation).
    with _served(docker, image, "cd-model-code",
                 {"SAGEMAKER_PROGRAM": "inference.py",
                  "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
                 [f"{workdir}/packed-model:/opt/ml/model:ro"]) as server:
        _expect_labels(server, samples, 300)


def test_multi_model_with_tarball_code(docker, image, workdir, samples):
    # As upstream's multi-model test: models under /opt/ml/model, code in a local tarball.
    with _served(docker, image, "cd-mme",
                 {"SAGEMAKER_MULTI_MODEL": "true", "SAGEMAKER_PROGRAM": "script.py",
                  "SAGEMAKER_SUBMIT_DIRECTORY": "/user_module2/user_code.tar.gz"},
                 [f"{workdir}/models:/opt/ml/model:ro",
                  f"{workdir}/tarballs:/user_module2:ro"]) as server:
        for name in ("m1", "m2"):
            server.expect(server.post("/models", {"model_name": name,
                                                  "url": f"/opt/ml/model/{name}"}),
                          200, f"load {name}")
        _expect_labels(server, samples, 200, "/models/m1/invoke")  # the container's tarball
        _expect_labels(server, samples, 400, "/models/m2/invoke")  # the model's own code/
        _expect_labels(server, samples, 200,
                       headers={"X-Amzn-SageMaker-Target-Model": "m1"})
        missing = server.expect(server.post("/models/nope/invoke", "1", "text/csv"), 404,
                                "unknown model")
        assert missing.json()["message"] == "Model not found: nope", missing.body


# --- S3 (moto's server on 127.0.0.1) -----------------------------------------------


@pytest.fixture(scope="module")
def moto_s3(workdir):
    """moto's S3 server on a free 127.0.0.1 port, with the tarball uploaded."""
    moto_server = os.path.join(os.path.dirname(sys.executable), "moto_server")
    if not os.path.exists(moto_server):
        pytest.skip(f"{moto_server} not found (install tools/container-test/requirements.txt)")
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        for _ in range(100):
            try:
                opener.open(endpoint + "/", timeout=2).read()
                break
            except (OSError, urllib.error.URLError):
                if process.poll() is not None:
                    pytest.fail(f"moto_server exited with code {process.returncode}")
                time.sleep(0.2)
        else:
            pytest.fail(f"moto_server did not answer on {endpoint}")
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="sm-code")
        client.upload_file(os.path.join(workdir, "tarballs", "user_code.tar.gz"), "sm-code",
                           "job-1/source/sourcedir.tar.gz")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)


def _s3_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": FAKE_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_s3_uri(docker, image, workdir, moto_s3, samples):
    with _served(docker, image, "cd-s3",
                 {"SAGEMAKER_PROGRAM": "script.py",
                  "SAGEMAKER_SUBMIT_DIRECTORY": "s3://sm-code/job-1/source/sourcedir.tar.gz",
                  **_s3_env(moto_s3)},
                 [f"{workdir}/model:/opt/ml/model:ro"]) as server:
        _expect_labels(server, samples, 200)


def _serve_fails(docker, image, trees, env: dict[str, str], volumes: list[str]):
    """`serve` that must exit at start: (exit code, output, failure file text)."""
    root = trees.new("cd-fail")
    args = ["--network", "host", "-v", f"{root}/output:/opt/ml/output"]
    for volume in volumes:
        args += ["-v", volume]
    for key, value in {"SAGEMAKER_BIND_TO_HOST": "127.0.0.1",
                       "SAGEMAKER_BIND_TO_PORT": str(free_port()), **env}.items():
        args += ["-e", f"{key}={value}"]
    result = docker.run_rm(image, "serve", name_hint="cd-fail", timeout=120,
                           docker_args=tuple(args))
    output = (result.stdout + result.stderr).decode(errors="replace")
    failure = os.path.join(root, "output", "failure")
    text = open(failure).read() if os.path.exists(failure) else ""
    return result.returncode, output, text


@pytest.mark.parametrize(("uri", "why"), [
    ("s3://sm-code/job-1/source/missing.tar.gz", ": no object"),
    ("s3://no-such-bucket/sourcedir.tar.gz", ""),
])
def test_s3_missing_code_is_a_user_error(docker, image, trees, workdir, moto_s3, uri, why):
    code, output, failure = _serve_fails(
        docker, image, trees,
        {"SAGEMAKER_PROGRAM": "script.py", "SAGEMAKER_SUBMIT_DIRECTORY": uri,
         **_s3_env(moto_s3)},
        [f"{workdir}/model:/opt/ml/model:ro"])
    assert code == 2, f"exit {code}\n{output[-3000:]}"
    assert failure.startswith(f"UserError: cannot download {uri}{why}"), failure
    assert uri in output


@pytest.mark.parametrize(("tarball", "why"), [
    ("evil.tar.gz", "refusing to unpack /user_module/evil.tar.gz: member '../escaped.py'"),
    ("corrupt.tar.gz", "cannot unpack /user_module/corrupt.tar.gz: not a readable tar archive"),
])
def test_unsafe_or_corrupt_tarball_is_refused(docker, image, trees, workdir, tarball, why):
    code, output, failure = _serve_fails(
        docker, image, trees,
        {"SAGEMAKER_PROGRAM": "script.py",
         "SAGEMAKER_SUBMIT_DIRECTORY": f"/user_module/{tarball}"},
        [f"{workdir}/model:/opt/ml/model:ro", f"{workdir}/tarballs:/user_module:ro"])
    assert code == 2, f"exit {code}\n{output[-3000:]}"
    assert failure.startswith("UserError: " + why), failure


def test_training_from_a_local_tarball(docker, image, trees):
    from conftest import TRAIN_SCRIPT, run_train

    root = trees.new("cd-train")
    _tarball(os.path.join(root, "input", "sourcedir.tar.gz"), {"train.py": TRAIN_SCRIPT})
    for name in os.listdir(os.path.join(root, "code")):  # the code comes from the tarball only
        os.unlink(os.path.join(root, "code", name))
    _world_writable(root)
    result = run_train(docker, image, root, "train.py",
                       extra_env=("SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/input/sourcedir.tar.gz",))
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode == 0, output[-4000:]
    assert os.path.exists(os.path.join(root, "model", "model.joblib"))
