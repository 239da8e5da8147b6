"""Starting the real servers: gunicorn behind nginx.

nginx faces SageMaker on SAGEMAKER_BIND_TO_PORT (default 8080) and hands
requests to gunicorn over a unix socket; gunicorn runs the Flask app in
SAGEMAKER_NUM_MODEL_WORKERS worker processes (default: CPU count). nginx
buffers slow clients so gunicorn's simple sync workers stay busy only with
actual predictions.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from importlib import resources

from sagemaker_sklearn_container import environment
from sagemaker_sklearn_container.errors import PlatformError, UserError

logger = logging.getLogger(__name__)

APP_FACTORY = "sagemaker_sklearn_container.app:create_app()"
SOCKET_NAME = "gunicorn.sock"
CONFIG_NAME = "nginx.conf"


def render_nginx_config(
    settings: environment.ServingSettings, runtime_dir: str, socket_path: str
) -> str:
    template = (
        resources.files("sagemaker_sklearn_container")
        .joinpath("templates/nginx.conf.template")
        .read_text(encoding="utf-8")
    )
    values = {
        "runtime_dir": runtime_dir,
        "socket_path": socket_path,
        "host": settings.host,
        "port": str(settings.port),
        "timeout": str(settings.timeout),
        "max_body_size": str(settings.max_content_length),
        # Workers of a root master switch to the serving user (nginx creates its temp dirs for it).
        "user": f"user {settings.user};" if settings.user else "",
    }
    # {{name}} placeholders: nginx itself uses $name, so string.Template won't do.
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def gunicorn_command(settings: environment.ServingSettings, bind: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(settings.workers),
        "--worker-class",
        "sync",
        "--timeout",
        str(settings.timeout),
        # SAGEMAKER_MODEL_JOB_QUEUE_SIZE: how many requests may wait for a worker.
        "--backlog",
        str(settings.job_queue_size),
        "--error-logfile",
        "-",
        "--log-level",
        "info",
        *(_drop_to(settings.user) if settings.user else []),
        APP_FACTORY,
    ]


def _drop_to(user: str) -> list[str]:
    """gunicorn options: workers run as ``user`` (the master chowns the socket to it)."""
    account = pwd.getpwnam(user)
    return [
        "--user",
        str(account.pw_uid),
        "--group",
        str(account.pw_gid),
        "--env",
        f"HOME={account.pw_dir}",
    ]


def first_unreadable(user: str, directory: str) -> str | None:
    """The first path below ``directory`` that ``user`` cannot read, asked as that user."""
    if not os.path.isdir(directory):
        return None
    account = pwd.getpwnam(user)
    # find's -readable and -executable ask access(2) as that user: ACLs and groups count.
    result = subprocess.run(
        [
            "find",
            directory,
            "(",
            "!",
            "-readable",
            "-o",
            "-type",
            "d",
            "!",
            "-executable",
            ")",
            "-print",
            "-quit",
        ],
        user=account.pw_uid,
        group=account.pw_gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.stdout:
        return result.stdout.splitlines()[0]
    # Nothing printed but an error: find could not even reach the directory.
    return directory if result.returncode != 0 else None


def account_that_can_read(
    settings: environment.ServingSettings, directories: list[str]
) -> environment.ServingSettings:
    """Keep the workers as root where the serving user cannot read the model or the code.

    The SageMaker Python SDK's local mode, for one, mounts a model it downloaded from S3
    from a folder only root can read. Upstream's images serve as root, so that stays the
    fallback (with a warning); a serving user asked for by name must be able to read them.
    """
    if not settings.user:
        return settings
    for directory in directories:
        path = first_unreadable(settings.user, directory)
        if path is None:
            continue
        if environment.serving_user_requested():
            raise UserError(
                f"SKLEARN_SERVING_USER={settings.user} cannot read {path}: make {directory} "
                "readable to it (chmod -R a+rX), or set SKLEARN_SERVING_USER=root"
            )
        logger.warning(
            "%s cannot read %s: serving as root (make %s readable to it, chmod -R a+rX, "
            "to serve unprivileged)",
            settings.user,
            path,
            directory,
        )
        return dataclasses.replace(settings, user=None)
    return settings


def nginx_command(config_path: str, runtime_dir: str) -> list[str]:
    return ["nginx", "-c", config_path, "-p", runtime_dir, "-e", "stderr"]


def prepare_runtime_dir(settings: environment.ServingSettings) -> tuple[str, str]:
    """Create the runtime dir, write the nginx config; return (config path, socket path)."""
    runtime_dir = os.path.abspath(environment.runtime_dir())
    os.makedirs(runtime_dir, exist_ok=True)
    socket_path = os.path.join(runtime_dir, SOCKET_NAME)
    if os.path.exists(socket_path):  # left over from an earlier run
        os.unlink(socket_path)
    config_path = os.path.join(runtime_dir, CONFIG_NAME)
    with open(config_path, "w", encoding="utf-8") as handle:
        handle.write(render_nginx_config(settings, runtime_dir, socket_path))
    if settings.user:  # the workers keep state here (the multi-model registry)
        account = pwd.getpwnam(settings.user)
        os.chown(runtime_dir, account.pw_uid, account.pw_gid)
    return config_path, socket_path


def _wait_for(path: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if process.poll() is not None:
            raise PlatformError(f"gunicorn exited with code {process.returncode} during start")
        if time.monotonic() > deadline:
            raise PlatformError(f"gunicorn did not create {path} within {timeout:.0f}s")
        time.sleep(0.1)


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(settings: environment.ServingSettings, start_timeout: float = 60.0) -> int:
    """Run nginx + gunicorn until a signal asks us to stop (0) or a server dies (PlatformError)."""
    if shutil.which("nginx") is None:
        raise PlatformError("nginx is not installed or not on PATH")
    config_path, socket_path = prepare_runtime_dir(settings)
    runtime_dir = os.path.dirname(config_path)

    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        logger.info("received signal %s, stopping servers", signum)
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    processes: list[subprocess.Popen] = []
    try:
        gunicorn = subprocess.Popen(gunicorn_command(settings, f"unix:{socket_path}"))
        processes.append(gunicorn)
        _wait_for(socket_path, gunicorn, start_timeout)
        nginx = subprocess.Popen(nginx_command(config_path, runtime_dir))
        processes.append(nginx)
        logger.info(
            "serving on %s:%s with %s gunicorn workers as %s",
            settings.host,
            settings.port,
            settings.workers,
            settings.user or "the starting user",
        )
        while not stopping:
            for name, process in (("gunicorn", gunicorn), ("nginx", nginx)):
                if process.poll() is not None:
                    raise PlatformError(
                        f"{name} exited unexpectedly with code {process.returncode}"
                    )
            time.sleep(0.2)
        return 0
    finally:
        _stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
