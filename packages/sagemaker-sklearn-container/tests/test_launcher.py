"""Server start: config rendering, command lines, and real servers on 127.0.0.1."""

import http.client
import json
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from sagemaker_sklearn_container import environment, launcher, serving
from sagemaker_sklearn_container.errors import PlatformError, UserError

HAS_NGINX = shutil.which("nginx") is not None


def settings(**overrides):
    values = dict(
        port=8080,
        host="0.0.0.0",
        workers=3,
        job_queue_size=50,
        timeout=30,
        max_content_length=1234,
        multi_model=False,
        default_accept="application/json",
    )
    values.update(overrides)
    return environment.ServingSettings(**values)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def status_or_error(port, method, path, body):
    try:
        return request(port, method, path, body, {"Content-Type": "text/csv"})[0]
    except OSError as exc:  # e.g. ConnectionResetError
        return repr(exc)


def wait_until_up(port, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if request(port, "GET", "/ping", timeout=2)[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"no server on 127.0.0.1:{port}")


def test_render_nginx_config():
    text = launcher.render_nginx_config(settings(port=9000), "/run/x", "/run/x/g.sock")
    assert "listen 0.0.0.0:9000" in text
    assert "server unix:/run/x/g.sock;" in text
    assert "client_max_body_size 1234;" in text
    assert "proxy_read_timeout 30s;" in text
    assert "pid /run/x/nginx.pid;" in text
    assert "{{" not in text
    assert "$http_host" in text  # nginx variables survive rendering


def test_gunicorn_and_nginx_commands():
    command = launcher.gunicorn_command(settings(), "unix:/s.sock")
    assert command[:3] == [sys.executable, "-m", "gunicorn"]
    joined = " ".join(command)
    assert "--bind unix:/s.sock" in joined
    assert "--workers 3" in joined
    assert "--backlog 50" in joined
    assert "--timeout 30" in joined
    assert command[-1] == launcher.APP_FACTORY
    assert launcher.nginx_command("/c.conf", "/r") == [
        "nginx",
        "-c",
        "/c.conf",
        "-p",
        "/r",
        "-e",
        "stderr",
    ]


def test_prepare_runtime_dir_removes_stale_socket(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / launcher.SOCKET_NAME).write_text("stale")
    config, sock = launcher.prepare_runtime_dir(settings())
    assert config == str(runtime / "nginx.conf")
    assert not os.path.exists(sock)
    with open(config, encoding="utf-8") as handle:
        assert "listen 0.0.0.0:8080" in handle.read()


@pytest.mark.skipif(not HAS_NGINX, reason="nginx not installed")
def test_rendered_config_passes_nginx_check(tmp_path):
    config, _ = launcher.prepare_runtime_dir(settings(host="127.0.0.1", port=free_port()))
    result = subprocess.run(
        [*launcher.nginx_command(config, str(tmp_path / "runtime")), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_serve_without_nginx_is_platform_error(monkeypatch):
    monkeypatch.setattr(launcher.shutil, "which", lambda name: None)
    with pytest.raises(PlatformError, match="nginx"):
        launcher.serve(settings())


def test_serve_reports_gunicorn_dying_at_start(monkeypatch):
    monkeypatch.setattr(launcher.shutil, "which", lambda name: "/bin/true")
    monkeypatch.setattr(
        launcher, "gunicorn_command", lambda s, b: [sys.executable, "-c", "raise SystemExit(4)"]
    )
    with pytest.raises(PlatformError, match="code 4"):
        launcher.serve(settings())


def test_serve_times_out_waiting_for_gunicorn(monkeypatch):
    monkeypatch.setattr(launcher.shutil, "which", lambda name: "/bin/true")
    monkeypatch.setattr(
        launcher,
        "gunicorn_command",
        lambda s, b: [sys.executable, "-c", "import time; time.sleep(30)"],
    )
    with pytest.raises(PlatformError, match="did not create"):
        launcher.serve(settings(), start_timeout=0.5)


def test_serve_reports_nginx_dying(monkeypatch):
    def fake_gunicorn(s, bind):
        path = bind[len("unix:") :]
        return [sys.executable, "-c", f"open({path!r}, 'w'); import time; time.sleep(30)"]

    monkeypatch.setattr(launcher.shutil, "which", lambda name: "/bin/true")
    monkeypatch.setattr(launcher, "gunicorn_command", fake_gunicorn)
    monkeypatch.setattr(
        launcher, "nginx_command", lambda c, r: [sys.executable, "-c", "raise SystemExit(1)"]
    )
    with pytest.raises(PlatformError, match="nginx exited"):
        launcher.serve(settings())


def test_real_gunicorn_on_loopback(model_dir):
    """gunicorn itself, bound to 127.0.0.1, serving the app with 2 workers."""
    port = free_port()
    command = launcher.gunicorn_command(
        settings(workers=2, max_content_length=1000), f"127.0.0.1:{port}"
    )
    env = dict(os.environ, MAX_CONTENT_LENGTH="1000")
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(port)
        status, body = request(
            port, "POST", "/invocations", b"[[1], [2]]", {"Content-Type": "application/json"}
        )
        assert status == 200
        assert json.loads(body) == pytest.approx([2, 4])
        assert (
            request(port, "POST", "/invocations", b"[[1]]", {"Content-Type": "text/xml"})[0] == 415
        )
        big = b"[" + b"1," * 1000 + b"1]"
        assert (
            request(port, "POST", "/invocations", big, {"Content-Type": "application/json"})[0]
            == 413
        )
        assert request(port, "GET", "/ping")[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.skipif(not HAS_NGINX, reason="nginx not installed")
def test_full_stack_nginx_and_gunicorn(monkeypatch, model_dir):
    """serving.main: nginx on 127.0.0.1 -> gunicorn socket -> app; SIGTERM stops it cleanly."""
    # A short, world-traversable runtime dir: nginx workers may run as another user.
    runtime = tempfile.mkdtemp(prefix="smsk-")
    os.chmod(runtime, 0o755)
    port = free_port()
    monkeypatch.setenv("SAGEMAKER_RUNTIME_DIR", runtime)
    monkeypatch.setenv("SAGEMAKER_BIND_TO_HOST", "127.0.0.1")
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", str(port))
    monkeypatch.setenv("SAGEMAKER_NUM_MODEL_WORKERS", "2")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2000")
    results = {}

    def client():
        try:
            wait_until_up(port, deadline=60)
            results["ping"] = request(port, "GET", "/ping")[0]
            results["predict"] = request(
                port, "POST", "/invocations", b"[[5]]", {"Content-Type": "application/json"}
            )
            big = b"[" + b"1," * 2000 + b"1]"
            results["too_big"] = request(
                port, "POST", "/invocations", big, {"Content-Type": "application/json"}
            )[0]
            results["params"] = request(port, "GET", "/execution-parameters")
            results["unknown"] = request(port, "GET", "/elsewhere")[0]
            # A bad URI whose request line fills nginx's 1k header buffer exactly
            # ("POST " + 1008 + " HTTP/1.1\r\n"), with a body: 400, never a reset.
            bad_uri = "/models/%00" + "a" * 990 + "/invoke"
            assert len(bad_uri) == 1008
            results["bad_uri"] = [
                status_or_error(port, "POST", bad_uri, b"1,2\n" * 100) for _ in range(20)
            ]
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=client)
    thread.start()
    try:
        assert serving.main() == 0
    finally:
        thread.join(timeout=90)
        shutil.rmtree(runtime, ignore_errors=True)
    assert results["ping"] == 200
    assert results["predict"][0] == 200
    assert json.loads(results["predict"][1]) == pytest.approx([10])
    assert results["too_big"] == 413
    assert json.loads(results["params"][1])["MaxConcurrentTransforms"] == 2
    assert results["unknown"] == 404
    assert results["bad_uri"] == [400] * 20


def test_workers_drop_to_the_serving_user_when_started_as_root(monkeypatch):
    account = pwd.getpwnam("nobody")  # any account but root
    monkeypatch.setattr(environment.os, "geteuid", lambda: 0)
    monkeypatch.setattr(environment, "DEFAULT_SERVING_USER", account.pw_name)
    user = environment.serving_user()
    assert user == account.pw_name
    command = " ".join(launcher.gunicorn_command(settings(user=user), "unix:/s.sock"))
    assert f"--user {account.pw_uid} --group {account.pw_gid}" in command
    assert f"--env HOME={account.pw_dir}" in command
    text = launcher.render_nginx_config(settings(user=user), "/run/x", "/run/x/g.sock")
    assert text.startswith("# Rendered") and f"\nuser {account.pw_name};\n" in text

    monkeypatch.setenv("SKLEARN_SERVING_USER", "root")
    assert environment.serving_user() is None
    monkeypatch.setenv("SKLEARN_SERVING_USER", "no-such-account-here")
    with pytest.raises(UserError, match="SKLEARN_SERVING_USER=no-such-account-here"):
        environment.serving_user()


def test_no_switch_without_root_or_without_the_account(monkeypatch):
    monkeypatch.setattr(environment.os, "geteuid", lambda: 1000)
    assert environment.serving_user() is None
    monkeypatch.setattr(environment.os, "geteuid", lambda: 0)
    monkeypatch.setattr(environment, "DEFAULT_SERVING_USER", "no-such-account-here")
    assert environment.serving_user() is None
    assert "user " not in launcher.render_nginx_config(settings(), "/r", "/r/g.sock").split("\n")[1]
    assert "--user" not in launcher.gunicorn_command(settings(), "unix:/s.sock")


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another account needs root")
def test_workers_stay_root_where_the_serving_user_cannot_read_the_model(monkeypatch, caplog):
    account = pwd.getpwnam("nobody")
    top = pathlib.Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's tmp_path is root's alone
    os.chmod(top, 0o755)
    model = top / "model"
    model.mkdir()
    (model / "model.joblib").write_bytes(b"x")
    readable = settings(user=account.pw_name)
    assert launcher.first_unreadable(account.pw_name, str(model)) is None
    assert launcher.account_that_can_read(readable, [str(model), str(top / "none")]) is readable

    # As the SDK's local mode mounts a model it fetched from S3: a folder only root reads.
    os.chmod(model, 0o700)
    assert launcher.first_unreadable(account.pw_name, str(model)) == str(model)
    with caplog.at_level("WARNING"):
        assert launcher.account_that_can_read(readable, [str(model)]).user is None
    assert f"nobody cannot read {model}: serving as root" in caplog.text

    os.chmod(model, 0o755)
    os.chmod(model / "model.joblib", 0o600)
    assert launcher.first_unreadable(account.pw_name, str(model)) == str(model / "model.joblib")
    monkeypatch.setenv("SKLEARN_SERVING_USER", account.pw_name)  # asked for by name: refused
    with pytest.raises(UserError, match=f"SKLEARN_SERVING_USER=nobody cannot read {model}"):
        launcher.account_that_can_read(readable, [str(model)])
    os.chmod(top, 0o700)  # not even reachable
    assert launcher.first_unreadable(account.pw_name, str(model)) == str(model)
    shutil.rmtree(top)


def test_the_sdks_model_server_workers_setting_wins(monkeypatch):
    monkeypatch.setenv("SAGEMAKER_NUM_MODEL_WORKERS", "3")
    assert environment.model_server_workers() == 3
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "1")
    assert environment.ServingSettings.from_env().workers == 1
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "0")
    assert environment.model_server_workers() == 1
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "two")
    with pytest.raises(UserError, match="SAGEMAKER_MODEL_SERVER_WORKERS must be an integer"):
        environment.model_server_workers()
