"""Stand-in for ``docker-compose`` that puts the SDK's local-mode containers on the host network.

The SageMaker Python SDK (2.x) writes a compose file that attaches every container to a
bridge network of its own ("sagemaker-local") and publishes the serving port; it has no
setting for host networking (its ``local.container_config`` cannot replace ``networks``,
and compose refuses ``network_mode`` next to ``networks``). The containers must reach the
S3 stand-in on 127.0.0.1, which only host networking allows, so the test puts this script
first on PATH under the name ``docker-compose``. It rewrites the file the SDK passed with
``-f`` and then runs the real compose with the same arguments:

* each service: ``network_mode: host`` instead of ``networks``;
* a published port ``P:8080`` becomes ``SAGEMAKER_BIND_TO_PORT=P`` and
  ``SAGEMAKER_BIND_TO_HOST=127.0.0.1``: the server listens where the SDK will call it,
  on loopback only;
* the SDK's host name for the container (``algo-1-xxxxx``, which it writes to
  resourceconfig.json) resolves to 127.0.0.1: sagemaker-training waits until every host
  of the job resolves, and the bridge network's alias no longer exists;
* a label (``SDK_COMPOSE_LABEL=key=value``), so the test can remove the containers that
  compose leaves behind;
* extra environment variables (``SDK_COMPOSE_ENV``, a JSON object), e.g. the test's proxy
  that records any request that tries to leave the machine.

Environment: ``SDK_COMPOSE_REAL`` (the real docker-compose, required), ``SDK_COMPOSE_LABEL``,
``SDK_COMPOSE_ENV``.
"""

from __future__ import annotations

import json
import os
import sys

import yaml

HOST = "127.0.0.1"
CONTAINER_PORT = "8080"


def _bind_env(ports: list) -> dict[str, str]:
    """A published ``P:8080`` becomes the server's own address, 127.0.0.1:P."""
    env: dict[str, str] = {}
    for spec in ports:
        host_port, _, container_port = str(spec).rpartition(":")
        if container_port != CONTAINER_PORT or not host_port.isdigit():
            raise SystemExit(f"sdk_compose: cannot map port {spec!r} to the host network")
        env = {"SAGEMAKER_BIND_TO_PORT": host_port, "SAGEMAKER_BIND_TO_HOST": HOST}
    return env


def rewrite(content: dict, label: str | None = None, extra_env: dict | None = None) -> dict:
    """The compose document ``content`` with its services on the host network."""
    content = dict(content)
    content.pop("networks", None)
    services = {}
    for name, service in content.get("services", {}).items():
        service = dict(service)
        service.pop("networks", None)
        service["network_mode"] = "host"
        env = list(service.get("environment") or [])
        added = {**_bind_env(service.pop("ports", [])), **(extra_env or {})}
        env += [f"{key}={value}" for key, value in added.items()]
        service["environment"] = env
        service["extra_hosts"] = [*service.get("extra_hosts", []), f"{name}:{HOST}"]
        if label:
            key, _, value = label.partition("=")
            service["labels"] = {**(service.get("labels") or {}), key: value}
        services[name] = service
    content["services"] = services
    return content


def _compose_file(args: list[str]) -> str | None:
    for index, arg in enumerate(args[:-1]):
        if arg in ("-f", "--file"):
            return args[index + 1]
    return None


def main(argv: list[str]) -> None:
    real = os.environ.get("SDK_COMPOSE_REAL")
    if not real:
        raise SystemExit("sdk_compose: SDK_COMPOSE_REAL (the real docker-compose) is not set")
    path = _compose_file(argv)
    if path is not None:
        with open(path, encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
        with open(path, "w", encoding="utf-8") as handle:
            extra_env = json.loads(os.environ.get("SDK_COMPOSE_ENV") or "{}")
            label = os.environ.get("SDK_COMPOSE_LABEL")
            yaml.safe_dump(rewrite(content, label, extra_env), handle)
    # exec: the SDK stops a local endpoint by signalling the process it started.
    os.execv(real, [real, *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
