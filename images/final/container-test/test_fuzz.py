"""Bounded, seeded fuzz run against the serving API of the final image (issue #6).

Random and broken requests go to a single-model server (``/invocations``) and to a
multi-model server (the ``/models`` API): random bytes; broken JSON, CSV and NPY;
odd Content-Type and Accept headers; bodies of random sizes, some just over the size
limit; empty bodies; wrong methods and paths; odd model names, load payloads and
load/unload/describe/invoke sequences. Known-good requests are mixed in. Contract:

* every answer is a 4xx - or a 2xx where the input happens to be acceptable, and then
  with the right predictions - never a 5xx and never a dropped connection;
* after every few fuzz requests a known-good request answers 200 with the right
  predictions;
* at the end the container still runs, /ping answers 200, and gunicorn never replaced
  a worker (its log shows exactly the workers booted at start, none exiting).

Bounded and reproducible: everything random comes from FUZZ_SEED (default
DEFAULT_SEED) and each server gets FUZZ_REQUESTS fuzz requests (default
DEFAULT_REQUESTS, about 20 s per server on a 2-core machine). The seed and the counts
are printed (see them with ``pytest -s``); a failure names the seed, the case number,
the case and a short repr of the body, with the server's log tail. The cases come in
the same order for any FUZZ_REQUESTS, so case #n comes back with the same seed and
FUZZ_REQUESTS >= n. Replay with
    FUZZ_SEED=<seed> FUZZ_REQUESTS=<n> IMAGE=... DOCKER_CLIENT=docker \
        python3 -m pytest -p no:cacheprovider -q -s images/final/container-test/test_fuzz.py
The size limit is set small in the containers (MAX_CONTENT_LENGTH=64 KiB) so that a
413 is cheap to reach.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import pickle
import random
import re
import shutil
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from conftest import (
    HTTP_TIMEOUT,
    N_FEATURES,
    Response,
    Server,
    make_samples,
    start_server,
)

DEFAULT_SEED = 20261125
DEFAULT_REQUESTS = 6000
SEED = int(os.environ.get("FUZZ_SEED") or DEFAULT_SEED)
REQUESTS = int(os.environ.get("FUZZ_REQUESTS") or DEFAULT_REQUESTS)
GOOD_EVERY = 4  # a known-good request after every GOOD_EVERY fuzz requests
LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH in the fuzzed containers
WORKERS = 2

JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"
TARGET = "X-Amzn-SageMaker-Target-Model"
MODELS = "/opt/ml/models"
MODEL_URL = f"{MODELS}/m1"  # what a loaded model reports, however its url was spelled

OK = frozenset({200})
ANY_4XX = frozenset(range(400, 500))
OK_OR_4XX = OK | ANY_4XX

# What the server accepts as a model name (its error message says so).
VALID_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# Cells no float() parses (no digits a float() would accept, no nan/inf spellings).
NON_NUMERIC = ["abc", "x1", "0x10", "--1", "1e", "1.2.3", "None", "true", "\u00bd", "\U0001f642",
               "1 2", "#", "$5", "1,5"]
# gunicorn's and nginx's words for a worker that died or was replaced.
WORKER_TROUBLE = re.compile(
    r"Worker exiting|WORKER TIMEOUT|Worker \(pid:\d+\) was sent|Error handling request"
    r"|exited on signal|Traceback"
)


# --- cases and the run ----------------------------------------------------------


@dataclass
class Case:
    kind: str  # the generator family, counted in the summary
    what: str  # the sub-case, for the summary and the failure message
    method: str = "POST"
    path: str = "/invocations"
    body: bytes | list[bytes] | None = None  # a list is sent chunked
    headers: dict[str, str] = field(default_factory=dict)
    allowed: frozenset[int] = ANY_4XX
    check: Callable[[Response], str | None] | None = None  # more checks on a 2xx answer


def short(body: bytes | list[bytes] | None, limit: int = 160) -> str:
    if body is None:
        return "None"
    data = b"".join(body) if isinstance(body, list) else body
    if len(data) <= limit:
        return repr(data)
    return f"{data[:limit]!r}... ({len(data)} bytes, ends {data[-24:]!r})"


def expected(allowed: frozenset[int]) -> str:
    if allowed == ANY_4XX:
        return "a 4xx"
    if allowed == OK_OR_4XX:
        return "200 or a 4xx"
    return " or ".join(str(status) for status in sorted(allowed))


def media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def predictions(response: Response) -> list[float]:
    kind = media(response.content_type)
    if kind == JSON:
        values = json.loads(response.body.decode("utf-8"))
    elif kind == CSV:
        values = [line for line in response.body.decode("utf-8").splitlines() if line]
    elif kind == NPY:
        values = np.load(io.BytesIO(response.body), allow_pickle=False).tolist()
    else:
        raise ValueError(f"unexpected Content-Type {response.content_type!r}")
    return [float(value) for value in values]


def labels_check(labels: list[int], accept: str | None = None) -> Callable:
    """A 2xx must carry exactly these predictions (and, if given, in this media type)."""

    def check(response: Response) -> str | None:
        if accept is not None and media(response.content_type) != accept:
            return f"answered in {response.content_type!r}, expected {accept}"
        try:
            found = predictions(response)
        except (ValueError, UnicodeDecodeError) as exc:
            return f"unreadable predictions: {exc}"
        if found != [float(label) for label in labels]:
            return f"predictions {found} != expected {labels}"
        return None

    return check


def answer_type(accept: str | None) -> str | None:
    """The media type the server answers in for this Accept: the first type of the list
    it supports (wildcards: the default, JSON; text/*: CSV), None if there is none."""
    if not accept or not accept.strip():
        return JSON
    for part in accept.split(","):
        kind = media(part)
        if kind in ("*/*", "application/*", ""):
            return JSON
        if kind == "text/*":
            return CSV
        if kind in (JSON, CSV, NPY):
            return kind
    return None


class Run:
    """One fuzz run against one server: its RNG, its data, its counts."""

    def __init__(self, server: Server, stream: str):
        self.server = server
        self.stream = stream
        self.rng = random.Random(f"{SEED}:{stream}")
        self.X, y = make_samples(per_class=10, seed=SEED % 2**32)
        self.y = y.tolist()
        self.sent = 0
        self.counts: Counter[str] = Counter()
        self.statuses: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.started = time.monotonic()

    # Where invocations go: single-model /invocations; the multi-model run overrides it.
    def route(self) -> tuple[str, dict[str, str]]:
        return "/invocations", {}

    def rows(self) -> tuple[np.ndarray, list[int]]:
        count = self.rng.choice([1, 1, 2, 3, 5, 8, 13, len(self.X)])
        index = [self.rng.randrange(len(self.X)) for _ in range(count)]
        return self.X[index], [self.y[i] for i in index]

    def send(self, case: Case) -> Response:
        self.sent += 1
        self.counts[case.kind] += 1
        try:
            response = request(self.server, case)
        except (OSError, http.client.HTTPException) as exc:
            problem = f"no answer (dropped connection?): {exc!r}"
            raise AssertionError(self.report(case, problem)) from exc
        self.statuses[case.kind][response.status] += 1
        problem = None
        if response.status not in case.allowed:
            problem = f"expected {expected(case.allowed)}, got HTTP {response.status}"
        elif 200 <= response.status < 300 and case.check is not None:
            problem = case.check(response)
        if problem:
            raise AssertionError(self.report(case, problem, response))
        return response

    def report(self, case: Case, problem: str, response: Response | None = None) -> str:
        answer = f"{response.status} {response.body[:600]!r}" if response else "none"
        return (
            f"fuzz case #{self.sent} of the {self.stream} run [{case.kind}: {case.what}]: "
            f"{problem}\n"
            f"  replay: FUZZ_SEED={SEED} FUZZ_REQUESTS={REQUESTS}\n"
            f"  request: {case.method} {case.path} headers={case.headers!r}\n"
            f"  body: {short(case.body)}\n"
            f"  answer: {answer}\n"
            f"--- container log (tail) ---\n{self.server.logs()}"
        )

    def invoke(self, kind: str, what: str, body: bytes | list[bytes] | None,
               content_type: str | None, allowed: frozenset[int],
               labels: list[int] | None = None, accept: str | None = "random") -> Case:
        """A case for the invocation route, with a random acceptable Accept by default."""
        path, headers = self.route()
        if accept == "random":
            accept = self.rng.choice([None, None, "*/*", JSON, CSV, NPY])
        if content_type is not None:
            headers["Content-Type"] = content_type
        if accept is not None:
            headers["Accept"] = accept
        check = labels_check(labels, answer_type(accept)) if labels is not None else None
        return Case(kind, what, "POST", path, body, headers, allowed, check)

    def summary(self) -> str:
        seconds = time.monotonic() - self.started
        head = (f"fuzz {self.stream}: FUZZ_SEED={SEED} FUZZ_REQUESTS={REQUESTS}: "
                f"{self.sent} requests in {seconds:.1f}s")
        lines = [head]
        for kind, count in sorted(self.counts.items()):
            statuses = ", ".join(f"{s}x{n}" for s, n in sorted(self.statuses[kind].items()))
            lines.append(f"  {kind:<16} {count:>5}  ({statuses})")
        return "\n".join(lines)


def request(server: Server, case: Case) -> Response:
    """One request on a fresh connection with exactly these headers (http.client adds only
    Host, Accept-Encoding: identity and the body's Content-Length or chunked encoding)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=HTTP_TIMEOUT)
    try:
        connection.request(case.method, case.path, body=case.body, headers=case.headers)
        answer = connection.getresponse()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()},
                        answer.read())
    finally:
        connection.close()


# --- bodies -----------------------------------------------------------------------


def number(rng: random.Random, value: float) -> str:
    return rng.choice(["{:.6g}", "{!r}", "{:.4e}", "{:+.5f}"]).format(float(value))


def csv_rows(rng: random.Random, X) -> list[str]:
    return [",".join(number(rng, v) for v in row) for row in np.asarray(X)] if len(X) else []


def csv_body(rng: random.Random, X, end: str = "\n") -> bytes:
    return (end.join(csv_rows(rng, X)) + rng.choice([end, ""])).encode("utf-8")


def npy(array, version: tuple[int, int] | None = None, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), version=version,
                              allow_pickle=allow_pickle)
    return buffer.getvalue()


def npy_raw(header: str, data: bytes) -> bytes:
    """An NPY 1.0 file with this header text, unchecked, padded as numpy pads it."""
    text = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    raw = text.encode("latin-1")
    return b"\x93NUMPY\x01\x00" + len(raw).to_bytes(2, "little") + raw + data


def good_body(run: Run, X) -> tuple[bytes, str]:
    """A correct body for these rows in a random format, with a random spelling of its type."""
    rng = run.rng
    kind = rng.choice(["csv", "json", "instances", "inputs", "npy"])
    if kind == "csv":
        body, content_type = csv_body(rng, X, rng.choice(["\n", "\r\n"])), CSV
    elif kind == "npy":
        array = np.asfortranarray(X) if rng.random() < 0.3 else np.asarray(X)
        body, content_type = npy(array, rng.choice([None, (1, 0), (2, 0), (3, 0)])), NPY
    else:
        rows = np.asarray(X).tolist()
        data = rows if kind == "json" else {kind: rows}
        body, content_type = json.dumps(data, indent=rng.choice([None, 1])).encode(), JSON
    spelling = rng.choice(["{}", "{}", "{}; charset=utf-8", "{};", " {} ", "UPPER"])
    content_type = content_type.upper() if spelling == "UPPER" else spelling.format(content_type)
    return body, content_type


def good_case(run: Run, what: str = "known-good request") -> Case:
    X, labels = run.rows()
    body, content_type = good_body(run, X)
    return run.invoke("good", what, body, content_type, OK, labels)


def mutate(rng: random.Random, data: bytes, alphabet: bytes) -> bytes:
    """A few random byte edits: delete, insert, overwrite, cut."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(data))
        edit = rng.random()
        if edit < 0.3 and data:
            del data[at:at + rng.randint(1, 8)]
        elif edit < 0.6:
            data[at:at] = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        elif edit < 0.9 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        else:
            del data[at:]
    return bytes(data)


def random_cell(rng: random.Random, rows: list[list]) -> tuple[int, int]:
    i = rng.randrange(len(rows))
    return i, rng.randrange(len(rows[i]))


# Each family maps sub-case names to functions (run, rows X, labels) ->
# (body, content type, allowed statuses, labels a 200 must carry or None).

JSON_CASES: dict[str, Callable] = {}
CSV_CASES: dict[str, Callable] = {}
NPY_CASES: dict[str, Callable] = {}


def case_of(table: dict[str, Callable], name: str) -> Callable:
    def register(function: Callable) -> Callable:
        table[name] = function
        return function

    return register


def _json(data) -> bytes:
    return json.dumps(data).encode("utf-8")


def _with_cell(rows: list[list], rng: random.Random, value) -> list[list]:
    i, j = random_cell(rng, rows)
    rows[i][j] = value
    return rows


@case_of(JSON_CASES, "truncated")
def _(run, X, y):
    text = _json(X.tolist())
    return text[: run.rng.randrange(len(text))], JSON, ANY_4XX, None


@case_of(JSON_CASES, "unbalanced brackets")
def _(run, X, y):
    rng, text = run.rng, json.dumps(X.tolist())
    how = rng.randrange(4)
    if how == 0:
        text += "]" * rng.randint(1, 3)
    elif how == 1:
        text = "[" * rng.randint(1, 3) + text
    else:  # drop one bracket
        bracket = "[" if how == 2 else "]"
        at = rng.choice([i for i, char in enumerate(text) if char == bracket])
        text = text[:at] + text[at + 1:]
    return text.encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "wrong nesting depth")
def _(run, X, y):
    rng, data = run.rng, X.tolist()
    how = rng.randrange(3)
    if how == 0:
        data = X.ravel().tolist()  # 1-D
    elif how == 1:
        data = X[0].tolist()  # one row, not a list of rows
    else:
        for _ in range(rng.choice([1, 2, 5, 31, 40])):
            data = [data]
    return _json(data), JSON, ANY_4XX, None


@case_of(JSON_CASES, "deeply nested")
def _(run, X, y):
    rng = run.rng
    depth = rng.choice([64, 999, 1000, 1001, 3000, 10000, 30000])
    inner = rng.choice(["", "1", "[1, 2, 3, 4]"])
    how = rng.randrange(4)
    if how == 2:  # objects: 7 bytes a level, so fewer levels fit under the limit
        depth = min(depth, (LIMIT - 16) // 7)
        text = '{"a": ' * depth + "1" + "}" * depth
    elif how == 3:
        text = "[" * depth  # and never closed
    else:
        text = "[" * depth + inner + "]" * depth
        text = '{"instances": ' + text + "}" if how == 1 else text
    return text.encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "huge numbers")
def _(run, X, y):
    rng = run.rng
    big = rng.choice([
        "1e400", "-1e999", "3.5e38", "1" + "0" * rng.randint(39, 400),
        "9" * rng.randint(401, 4300), "9" * rng.randint(4301, 20000), "-" + "9" * 5000,
    ])
    rows = X.tolist()
    i, j = random_cell(rng, rows)
    rows[i][j] = None
    text = json.dumps(rows).replace("null", big, 1)
    return text.encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "text cells")
def _(run, X, y):
    return _json(_with_cell(X.tolist(), run.rng, run.rng.choice(NON_NUMERIC))), JSON, ANY_4XX, None


@case_of(JSON_CASES, "numbers as strings")
def _(run, X, y):
    rows = [[repr(float(v)) if run.rng.random() < 0.5 else float(v) for v in row] for row in X]
    return _json(rows), JSON, OK_OR_4XX, y


@case_of(JSON_CASES, "nulls and NaN")
def _(run, X, y):
    rng, rows = run.rng, X.tolist()
    for _ in range(rng.randint(1, 3)):
        _with_cell(rows, rng, None)
    text = json.dumps(rows)
    if rng.random() < 0.5:
        text = text.replace("null", "NaN")
    return text.encode(), JSON, OK_OR_4XX, None  # the model may handle missing values


@case_of(JSON_CASES, "infinities")
def _(run, X, y):
    rows = _with_cell(X.tolist(), run.rng, None)
    text = json.dumps(rows).replace("null", run.rng.choice(["Infinity", "-Infinity"]))
    return text.encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "empty arrays")
def _(run, X, y):
    text = run.rng.choice(["[]", "[[]]", "[[], []]", '{"instances": []}', '{"inputs": [[]]}',
                           "{}", '{"instances": null}', "[[[]]]"])
    return text.encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "ragged rows")
def _(run, X, y):
    rng, rows = run.rng, X.tolist()
    if len(rows) == 1:
        rows.append(rows[0][:])
    i = rng.randrange(len(rows))
    if rng.random() < 0.5:
        del rows[i][rng.randrange(len(rows[i])):]
    else:
        rows[i] += [1.0] * rng.randint(1, 3)
    return _json(rows), JSON, ANY_4XX, None


@case_of(JSON_CASES, "wrong column count")
def _(run, X, y):
    width = run.rng.choice([1, 2, 3, 5, 6, 8, 20])
    rows = np.resize(X, (len(X), width)).tolist()
    return _json(rows), JSON, ANY_4XX, None


@case_of(JSON_CASES, "objects and lists in cells")
def _(run, X, y):
    value = run.rng.choice([{}, {"a": 1}, [], [1.0], [[1.0]], [1.0, 2.0, 3.0, 4.0]])
    return _json(_with_cell(X.tolist(), run.rng, value)), JSON, ANY_4XX, None


@case_of(JSON_CASES, "booleans")
def _(run, X, y):
    return _json(_with_cell(X.tolist(), run.rng, run.rng.random() < 0.5)), JSON, OK_OR_4XX, None


@case_of(JSON_CASES, "scalars")
def _(run, X, y):
    text = run.rng.choice(["1", "-0.5", "null", "true", '"abc"', '"1,2,3,4"', "1e400", '""'])
    return text.encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "envelopes")
def _(run, X, y):
    rows, rng = X.tolist(), run.rng
    bad = rng.choice([{"data": rows}, {"instances": 5}, {"instances": "x"},
                      {"inputs": {"a": rows}}, {"Instances": rows}, {"instances": {"x": rows}}])
    if rng.random() < 0.3:  # the documented envelopes, with junk next to them
        good = rng.choice([{"instances": rows, "inputs": "junk"}, {"inputs": rows, "x": 1}])
        return _json(good), JSON, OK, y
    return _json(bad), JSON, ANY_4XX, None


@case_of(JSON_CASES, "encodings")
def _(run, X, y):
    rng, text = run.rng, json.dumps(X.tolist())
    how = rng.randrange(3)
    if how == 0:  # a BOM: refusing it or reading it are both fine
        return b"\xef\xbb\xbf" + text.encode(), JSON, OK_OR_4XX, y
    if how == 1:
        return text.encode(rng.choice(["utf-16", "utf-32"])), JSON, ANY_4XX, None
    at = rng.randrange(len(text) + 1)
    bad = rng.choice([b"\xff", b"\xfe", b"\xc3\x28", b"\xe9", b"\xed\xa0\x80"])
    return text[:at].encode() + bad + text[at:].encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "not quite JSON")
def _(run, X, y):
    rng, text = run.rng, json.dumps(X.tolist())
    how = rng.randrange(4)
    if how == 0:
        text = text[:-1] + ",]"  # trailing comma
    elif how == 1:
        text = text.replace("[", "(").replace("]", ")")
    elif how == 2:
        text = "// rows\n" + text
    else:
        text = "{'instances': " + text + "}"  # single quotes
    return text.encode(), JSON, ANY_4XX, None


@case_of(JSON_CASES, "random edits")
def _(run, X, y):
    data = mutate(run.rng, _json(X.tolist()), b'[]{},:"0123456789.eE-+ \nabnulltrueNaN\x00\xff')
    return data, JSON, OK_OR_4XX, None


@case_of(CSV_CASES, "ragged rows")
def _(run, X, y):
    rng = run.rng
    rows = csv_rows(rng, X) + ([] if len(X) > 1 else csv_rows(rng, X))
    i = rng.randrange(len(rows))
    cells = rows[i].split(",")
    rows[i] = ",".join(cells[:-1] if rng.random() < 0.5 else [*cells, "1.0"])
    return "\n".join(rows).encode(), CSV, ANY_4XX, None


@case_of(CSV_CASES, "wrong column count")
def _(run, X, y):
    width = run.rng.choice([1, 2, 3, 5, 7, 40])
    return csv_body(run.rng, np.resize(X, (len(X), width))), CSV, ANY_4XX, None


@case_of(CSV_CASES, "text cells")
def _(run, X, y):
    rng = run.rng
    rows = [row.split(",") for row in csv_rows(rng, X)]
    i, j = random_cell(rng, rows)
    cell = rng.choice(NON_NUMERIC)
    rows[i][j] = f'"{cell}"' if "," in cell else cell
    return "\n".join(",".join(row) for row in rows).encode(), CSV, ANY_4XX, None


@case_of(CSV_CASES, "empty lines")
def _(run, X, y):
    rng = run.rng
    rows = csv_rows(rng, X)
    lines = []
    for row in rows:
        lines += [""] * rng.choice([0, 0, 1, 3]) + [row]
    lines += [""] * rng.choice([0, 1, 5])
    return "\n".join(lines).encode(), CSV, OK_OR_4XX, y


@case_of(CSV_CASES, "blank only")
def _(run, X, y):
    text = run.rng.choice(["\n", "\n" * 50, "\r\n\r\n", " ", "   \n \n", "\t", ",", ",,,\n"])
    return text.encode(), CSV, ANY_4XX, None


@case_of(CSV_CASES, "quotes")
def _(run, X, y):
    rng = run.rng
    rows = [row.split(",") for row in csv_rows(rng, X)]
    how = rng.randrange(3)
    if how == 0:  # every cell quoted: still the same numbers
        text = "\n".join(",".join(f'"{cell}"' for cell in row) for row in rows)
        return text.encode(), CSV, OK_OR_4XX, y
    i, j = random_cell(rng, rows)
    if how == 1:
        rows[i][j] = '"' + rows[i][j]  # never closed
    else:
        cell = rows[i][j]
        at = rng.randrange(len(cell) + 1)
        rows[i][j] = cell[:at] + rng.choice(['"', '""', '"x"', "'"]) + cell[at:]
    text = "\n".join(",".join(row) for row in rows)
    return text.encode(), CSV, OK_OR_4XX, None


@case_of(CSV_CASES, "byte order mark")
def _(run, X, y):
    return b"\xef\xbb\xbf" + csv_body(run.rng, X), CSV, OK_OR_4XX, y


@case_of(CSV_CASES, "line endings")
def _(run, X, y):
    rng = run.rng
    rows = csv_rows(rng, X)
    text = "".join(row + rng.choice(["\n", "\r\n", "\r"]) for row in rows)
    return text.encode(), CSV, OK_OR_4XX, y


@case_of(CSV_CASES, "not UTF-8")
def _(run, X, y):
    rng, text = run.rng, csv_body(run.rng, X)
    at = rng.randrange(len(text) + 1)
    bad = rng.choice([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xe9", b"\x80", b"\xed\xa0\x80"])
    return text[:at] + bad + text[at:], CSV, ANY_4XX, None


@case_of(CSV_CASES, "header row")
def _(run, X, y):
    header = ",".join(f"f{i}" for i in range(N_FEATURES)) + "\n"
    return header.encode() + csv_body(run.rng, X), CSV, ANY_4XX, None


@case_of(CSV_CASES, "other delimiters")
def _(run, X, y):
    delimiter = run.rng.choice([";", "\t", "|", " "])
    text = "\n".join(delimiter.join(row.split(",")) for row in csv_rows(run.rng, X))
    return text.encode(), CSV, ANY_4XX, None


@case_of(CSV_CASES, "extra commas")
def _(run, X, y):
    rows = csv_rows(run.rng, X)
    pattern = run.rng.choice(["{},", ",{}", "{},,"])
    return "\n".join(pattern.format(row) for row in rows).encode(), CSV, ANY_4XX, None


@case_of(CSV_CASES, "spaces")
def _(run, X, y):
    rng = run.rng

    def pad(cell: str) -> str:
        return " " * rng.randint(0, 2) + cell + " " * rng.randint(0, 2)

    text = "\n".join(",".join(map(pad, row.split(","))) for row in csv_rows(rng, X))
    return text.encode(), CSV, OK_OR_4XX, y


@case_of(CSV_CASES, "NUL bytes")
def _(run, X, y):
    rng = run.rng
    rows = [row.split(",") for row in csv_rows(rng, X)]
    i, j = random_cell(rng, rows)
    at = rng.randrange(len(rows[i][j]) + 1)
    rows[i][j] = rows[i][j][:at] + "\x00" + rows[i][j][at:]
    return "\n".join(",".join(row) for row in rows).encode(), CSV, ANY_4XX, None


@case_of(CSV_CASES, "truncated")
def _(run, X, y):
    text = csv_body(run.rng, X)
    return text[: run.rng.randrange(len(text))], CSV, OK_OR_4XX, None


@case_of(CSV_CASES, "nan cells")
def _(run, X, y):
    rng = run.rng
    rows = [row.split(",") for row in csv_rows(rng, X)]
    i, j = random_cell(rng, rows)
    rows[i][j] = rng.choice(["nan", "NaN", "-nan", ""])
    text = "\n".join(",".join(row) for row in rows)
    return text.encode(), CSV, OK_OR_4XX, None  # the model may handle missing values


@case_of(CSV_CASES, "huge cells")
def _(run, X, y):
    rng = run.rng
    rows = [row.split(",") for row in csv_rows(rng, X)]
    i, j = random_cell(rng, rows)
    rows[i][j] = rng.choice(["inf", "-Infinity", "1e400", "3.5e38", "1" + "0" * 60,
                             "9" * rng.randint(5000, 40000)])
    text = "\n".join(",".join(row) for row in rows)
    return text.encode(), CSV, ANY_4XX, None


@case_of(CSV_CASES, "random edits")
def _(run, X, y):
    data = mutate(run.rng, csv_body(run.rng, X), b'0123456789.,-+eE \n\r\t"ab\x00\xff')
    return data, CSV, OK_OR_4XX, None


@case_of(NPY_CASES, "truncated")
def _(run, X, y):
    data = npy(X)
    return data[: run.rng.randrange(len(data))], NPY, ANY_4XX, None


@case_of(NPY_CASES, "bad magic")
def _(run, X, y):
    rng, data = run.rng, bytearray(npy(X))
    how = rng.randrange(3)
    if how == 0:
        for at in rng.sample(range(6), rng.randint(1, 3)):
            data[at] = (data[at] + rng.randint(1, 255)) % 256
    elif how == 1:
        data[:6] = rng.choice([b"PK\x03\x04\x00\x00", b"\x80\x04\x95\x00\x00\x00", b"NUMPY\x93"])
    else:
        data[6] = rng.choice([0, 4, 9, 255])  # no such format version
    return bytes(data), NPY, ANY_4XX, None


@case_of(NPY_CASES, "header length lies")
def _(run, X, y):
    data = bytearray(npy(X))
    length = int.from_bytes(data[8:10], "little")
    wrong = run.rng.choice([0, 1, length - 1, length + 1, length + 64, 65535])
    data[8:10] = wrong.to_bytes(2, "little")
    # One byte short only loses the header's final newline: the data, shifted, may load.
    return bytes(data), NPY, OK_OR_4XX if wrong == length - 1 else ANY_4XX, None


@case_of(NPY_CASES, "header edits")
def _(run, X, y):
    data = npy(X)
    end = 10 + int.from_bytes(data[8:10], "little")
    header = mutate(run.rng, data[10:end], b"{}()[]',:<>|0123456789 fFOUVbiuc\n\x00")
    return data[:10] + header + data[end:], NPY, OK_OR_4XX, None


@case_of(NPY_CASES, "impossible shape")
def _(run, X, y):
    rng = run.rng
    shape = rng.choice([
        f"({10 ** rng.randint(9, 30)}, 4)", "(-1, 4)", "(4, -3)", "('a', 4)", "(1.5, 4)",
        "(2**62, 4)", "(None,)", "[2, 4]", "(9223372036854775808, 4)",
        "(4611686018427387904, 4)", f"({len(X) + 1}, 4)", "(" + "1, " * 40 + ")",
    ])
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
    return npy_raw(header, np.asarray(X, "<f8").tobytes()), NPY, ANY_4XX, None


@case_of(NPY_CASES, "wrong shape")
def _(run, X, y):
    rng = run.rng
    array = rng.choice([
        X.ravel(), X[:, :, None], np.float64(X[0, 0]), np.zeros((0, N_FEATURES)),
        np.zeros((len(X), 0)), np.resize(X, (len(X), rng.choice([1, 3, 5, 9]))),
        np.resize(X, (2, 2, len(X))),
    ])
    return npy(array), NPY, ANY_4XX, None


@case_of(NPY_CASES, "pickled objects")
def _(run, X, y):
    rng = run.rng
    how = rng.randrange(3)
    if how == 0:
        data = npy(np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    elif how == 1:
        data = npy(X.astype(object), allow_pickle=True)  # numbers, but pickled
    else:
        data = pickle.dumps(X.tolist())  # a bare pickle, no NPY header
    return data, NPY, ANY_4XX, None


@case_of(NPY_CASES, "non-numeric dtype")
def _(run, X, y):
    rng = run.rng
    array = rng.choice([
        X.astype(np.complex128), np.full(X.shape, "abc"), np.full(X.shape, b"xyz"),
        np.zeros(X.shape, dtype="V8"),
    ])
    return npy(array), NPY, ANY_4XX, None


@case_of(NPY_CASES, "random dtype and data")
def _(run, X, y):
    rng = run.rng
    dtype = np.dtype(rng.choice(["<i1", ">u2", "<i4", "<f2", ">f4", ">f8", "|b1", "<c8", "<U2",
                                 "|S3", "<M8[s]", "<m8[D]", "|V4", "<f16", [("a", "<f8")]]))
    data = rng.randbytes(X.size * dtype.itemsize)
    header = (f"{{'descr': {np.lib.format.dtype_to_descr(dtype)!r}, 'fortran_order': False, "
              f"'shape': {X.shape}, }}")
    return npy_raw(header, data), NPY, OK_OR_4XX, None


@case_of(NPY_CASES, "numeric variants")
def _(run, X, y):
    rng = run.rng
    array = rng.choice([
        X.astype(np.float32), X.astype(np.float16), X.astype(">f8"), np.asfortranarray(X),
        np.round(X).astype(rng.choice([np.int8, np.int16, np.int64])),
    ])
    return npy(array, rng.choice([None, (1, 0), (2, 0), (3, 0)])), NPY, OK, y


@case_of(NPY_CASES, "numbers as strings")
def _(run, X, y):
    return npy(X.astype(str)), NPY, OK_OR_4XX, y


@case_of(NPY_CASES, "npz archive")
def _(run, X, y):
    buffer = io.BytesIO()
    np.savez(buffer, x=X)
    return buffer.getvalue(), NPY, ANY_4XX, None


@case_of(NPY_CASES, "trailing bytes")
def _(run, X, y):
    return npy(X) + run.rng.randbytes(run.rng.randint(1, 64)), NPY, OK_OR_4XX, y


@case_of(NPY_CASES, "random after magic")
def _(run, X, y):
    return b"\x93NUMPY" + run.rng.randbytes(run.rng.randint(0, 300)), NPY, ANY_4XX, None


# --- families ---------------------------------------------------------------------


def table_family(kind: str, table: dict[str, Callable]) -> Callable[[Run], Case]:
    def generate(run: Run) -> Case:
        what = run.rng.choice(sorted(table))
        X, labels = run.rows()
        body, content_type, allowed, good_labels = table[what](run, X, labels)
        return run.invoke(kind, what, body, content_type, allowed, good_labels)

    return generate


def random_content_type(rng: random.Random) -> str | None:
    return rng.choice([None, JSON, CSV, NPY, "application/octet-stream", garbage_header(rng)])


def garbage_header(rng: random.Random, limit: int = 80) -> str:
    """Printable ASCII, latin-1 and control characters; never CR or LF (not sendable)."""
    alphabet = [chr(c) for c in range(32, 127)] + ["\t", "\x00", "\x01", "\x7f", "\xe9", "\xff"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, limit)))


def random_bytes(run: Run) -> Case:
    rng = run.rng
    size = rng.choice([rng.randint(1, 16), rng.randint(16, 1024), rng.randint(1024, LIMIT)])
    return run.invoke("random bytes", f"{size} bytes", rng.randbytes(size),
                      random_content_type(rng), ANY_4XX)


def content_types(run: Run) -> Case:
    """A good body under a random spelling of a Content-Type."""
    rng = run.rng
    X, labels = run.rows()
    body, content_type = good_body(run, X)
    kind = media(content_type)
    how = rng.randrange(5)
    if how == 0:
        variant = rng.choice([f"{kind}; charset=utf-8", kind.upper(), f"  {kind}\t",
                              f"{kind};;;", f'{kind}; q=0.9; x="y"', kind.title()])
        return run.invoke("content type", "same type, other spelling", body, variant, OK, labels)
    if how == 1:
        other = rng.choice([t for t in (JSON, CSV, NPY) if t != kind])
        return run.invoke("content type", "another supported type", body, other, ANY_4XX)
    if how == 2:
        variant = rng.choice(["application/xml", "text/plain", "application/octet-stream", "*/*",
                              "text/*", "application/*", "", "csv", "json", "application/json-seq",
                              "application/x-npz", "text/csv2", f"{CSV}, {JSON}", "text/csv/x",
                              "multipart/form-data; boundary=x",
                              "application/x-www-form-urlencoded"])
        return run.invoke("content type", "unsupported type", body, variant, frozenset({415}))
    if how == 3:
        return run.invoke("content type", "no Content-Type", body, None, frozenset({415}))
    return run.invoke("content type", "garbage", body, garbage_header(rng), ANY_4XX)


def accepts(run: Run) -> Case:
    """A good body with a random Accept."""
    rng = run.rng
    X, labels = run.rows()
    body, content_type = good_body(run, X)
    how = rng.randrange(4)
    if how == 0:
        accept = rng.choice([JSON, CSV, NPY, "*/*", "text/*", "application/*", f"{NPY};q=0.1",
                             CSV.upper(), f"image/png, {CSV}", f"application/xml, {NPY}", ""])
        return run.invoke("accept", "supported", body, content_type, OK, labels, accept)
    if how == 1:
        accept = rng.choice(["application/xml", "image/png", "text/html", "image/*",
                             "application/xml, image/*", "application/json-seq", "text/csvx"])
        assert answer_type(accept) is None, accept
        return run.invoke("accept", "unsupported", body, content_type, frozenset({406}),
                          accept=accept)
    # Garbage may or may not name a supported type: then the answer is in that type.
    accept = garbage_header(rng) if how == 2 else ", ".join(
        rng.choice([JSON, CSV, NPY, "*/*", "x/y", "", ";q=0", garbage_header(rng, 10)])
        for _ in range(rng.randint(1, 4)))
    path, headers = run.route()
    headers.update({"Content-Type": content_type, "Accept": accept})
    return Case("accept", "garbage", "POST", path, body, headers, OK_OR_4XX,
                labels_check(labels))


def sizes(run: Run) -> Case:
    """Bodies around the size limit: over it 413 (also chunked), up to it 200."""
    rng = run.rng
    X, labels = run.rows()
    good = csv_body(rng, X)
    how = rng.randrange(6)
    if how <= 1:  # just over the limit (also with a body that would be fine otherwise)
        size = LIMIT + rng.choice([1, 2, rng.randint(3, 4096)])
        body = good + b"\n" * (size - len(good)) if how == 0 else rng.randbytes(size)
        return run.invoke("size", "just over the limit", body,
                          rng.choice([CSV, JSON, NPY, None]), frozenset({413}))
    if how == 2:
        size = LIMIT * rng.randint(2, 16) + rng.randint(0, 100)
        chunks = [rng.randbytes(1024)] * (size // 1024) + [b"x" * (size % 1024)]
        body = chunks if rng.random() < 0.5 else b"".join(chunks)
        what = "far over the limit" + (", chunked" if isinstance(body, list) else "")
        return run.invoke("size", what, body, CSV, frozenset({413}))
    if how == 3:  # exactly at the limit: fine
        return run.invoke("size", "exactly the limit", good + b"\n" * (LIMIT - len(good)), CSV,
                          OK, labels)
    if how == 4:  # many rows, up to the limit
        body = good.rstrip(b"\n") + b"\n"
        repeat = max(1, rng.randint(LIMIT // 8, LIMIT) // len(body))
        return run.invoke("size", "many rows", body * repeat, CSV, OK, labels * repeat)
    body, content_type = good_body(run, X)  # sent chunked in random pieces
    cuts = sorted(rng.sample(range(1, len(body)), min(len(body) - 1, rng.randint(1, 8))))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    return run.invoke("size", "chunked", chunks, content_type, OK, labels)


def empty_bodies(run: Run) -> Case:
    rng = run.rng
    content_type = rng.choice([JSON, CSV, NPY, None, "text/plain"])
    allowed = frozenset({400}) if content_type in (JSON, CSV, NPY) else frozenset({415})
    body = rng.choice([b"", None])
    return run.invoke("empty body", f"{content_type} {body!r}", body, content_type, allowed,
                      accept=rng.choice([None, JSON, CSV]))


# (method, path, allowed): routes of the single-model server.
SINGLE_METHODS = [
    *[(m, "/invocations", frozenset({405})) for m in ("GET", "PUT", "DELETE", "PATCH", "HEAD",
                                                        "PROPFIND", "FOO")],
    *[(m, "/ping", frozenset({405})) for m in ("POST", "PUT", "DELETE")],
    ("POST", "/execution-parameters", frozenset({405})),
    *[(m, p, frozenset({200})) for m in ("OPTIONS",) for p in ("/invocations", "/ping")],
    ("HEAD", "/ping", frozenset({200})),
    *[(m, p, ANY_4XX) for m in ("TRACE", "CONNECT", "get", "P0ST") for p in ("/invocations",)],
    *[("POST", p, frozenset({404})) for p in ("/invocations/", "/invocationsx", "/INVOCATIONS",
                                              "/models", "/models/m1/invoke", "/", "/ping/x")],
    *[("POST", p, ANY_4XX) for p in ("/%2e%2e/invocations", "/invocations%00", "/" + "a" * 9000,
                                     "*", "/%ff")],
]


def boundary_path(rng: random.Random, prefix: str) -> str:
    """A bad path whose request line ("POST " + path + " HTTP/1.1\\r\\n") ends around
    1024 bytes, where nginx's first header buffer ends (a line of exactly 1024 bytes
    used to get a TCP reset instead of the 400)."""
    head = prefix + rng.choice(["%00", "/../../../..", "%00%2e%2e"])
    return head + "a" * (rng.randint(1000, 1016) - len(head))


def methods(table: list[tuple[str, str, frozenset[int]]]) -> Callable[[Run], Case]:
    def generate(run: Run) -> Case:
        rng = run.rng
        method, path, allowed = rng.choice(table)
        roll = rng.random()
        if roll < 0.15:
            method, path, allowed = "POST", boundary_path(rng, "/invocations"), ANY_4XX
        elif roll < 0.4:  # and now and then a path of noise
            method, allowed = "POST", ANY_4XX
            path = "/fz" + urllib.parse.quote(garbage_header(rng, 40), safe="/%?=&")
        body = csv_body(rng, run.rows()[0]) if method not in ("GET", "HEAD") else None
        return Case("method/path", f"{method} {path[:40]}", method, path, body,
                    {"Content-Type": CSV}, allowed)

    return generate


SINGLE_FAMILIES: list[tuple[Callable[[Run], Case], int]] = [
    (table_family("json", JSON_CASES), 6),
    (table_family("csv", CSV_CASES), 6),
    (table_family("npy", NPY_CASES), 6),
    (random_bytes, 2),
    (content_types, 3),
    (accepts, 3),
    (sizes, 2),
    (empty_bodies, 1),
    (methods(SINGLE_METHODS), 2),
]


def pick(rng: random.Random, families: list[tuple[Callable, int]]) -> Callable:
    return rng.choices([f for f, _ in families], weights=[w for _, w in families])[0]


# --- the end of a run: still alive, no worker replaced ---------------------------


def assert_still_serving(run: Run) -> None:
    server = run.server
    assert server.docker.running(server.name), (
        f"the container stopped during the fuzz run (FUZZ_SEED={SEED})\n{server.logs()}")
    server.expect(server.get("/ping"), 200, f"/ping after the fuzz run (FUZZ_SEED={SEED})")
    result = server.docker("logs", server.name, check=True, timeout=60)
    log = result.stdout.decode("utf-8", "replace") + result.stderr.decode("utf-8", "replace")
    booted = log.count("Booting worker with pid")
    trouble = [line for line in log.splitlines() if WORKER_TROUBLE.search(line)]
    assert booted == WORKERS and not trouble, (
        f"gunicorn replaced a worker during the fuzz run (FUZZ_SEED={SEED}): {booted} boots "
        f"for {WORKERS} workers; lines:\n" + "\n".join(trouble[:20]) + f"\n{server.logs()}")


# --- single-model ---------------------------------------------------------------


@pytest.fixture(scope="module")
def single_server(docker, image, model_dir, trained):
    srv = start_server(
        docker,
        image,
        "fuzz-single",
        env={
            "SAGEMAKER_PROGRAM": "train.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/code",
            "SAGEMAKER_NUM_MODEL_WORKERS": str(WORKERS),
            "MAX_CONTENT_LENGTH": str(LIMIT),
        },
        volumes=[f"{model_dir}:/opt/ml/model:ro", f"{trained.root}/code:/opt/ml/code:ro"],
    )
    yield srv
    docker.remove(srv.name)


def test_fuzz_single_model(single_server):
    run = Run(single_server, "single-model")
    print(f"\nfuzz single-model: FUZZ_SEED={SEED} FUZZ_REQUESTS={REQUESTS}")
    run.send(Case("good", "all sample rows", "POST", "/invocations",
                  csv_body(run.rng, run.X), {"Content-Type": CSV}, OK,
                  labels_check(run.y, JSON)))
    for i in range(REQUESTS):
        run.send(pick(run.rng, SINGLE_FAMILIES)(run))
        if i % GOOD_EVERY == GOOD_EVERY - 1:
            run.send(good_case(run))
    assert_still_serving(run)
    print(run.summary())


# --- multi-model ------------------------------------------------------------------


# Names the sequences load and unload (all valid; "base" stays loaded throughout).
POOL = ["m1", "fz.0", "fz_1", "FZ-2", "9", "a" * 128]
GOOD_URLS = [MODEL_URL, MODEL_URL + "/", "file://" + MODEL_URL, f"{MODELS}//m1",
             f"{MODELS}/./m1", f"{MODELS}/empty/../m1"]
BAD_URLS = [
    f"{MODELS}/nope", f"{MODELS}/m1/model.joblib", f"{MODELS}/notadir.txt", "/", "/proc",
    "/proc/self", "/dev/null", "/etc/passwd", "/root", f"{MODELS}/empty", MODELS, "/tmp",
    "s3://bucket/model", "http://127.0.0.1/", "file://", "file:///nonexistent", "", " ",
    "no/such/relative/dir", MODEL_URL + "\x00", "/" + "a" * 5000, f"{MODELS}/" + "../" * 50 + "x",
    "~/", f"{MODELS}/m1/../empty", "\U0001f642", 0, None, [], {}, [MODEL_URL], True,
]
BAD_NAMES = [
    "", ".", "..", "../m1", "../../etc/passwd", "%2e%2e", "..%2f", "m1/..", "/m1", "m1/",
    ".hidden", "-dash", "_under", "m1\n", "m1\r", "\nm1", "m1 ", " m1", "m 1", "m1\x00", "m1\t",
    "m\u00f6del", "\u6a21\u578b", "\U0001f600", "a" * 129, "a" * 5000, "m1;rm -rf /", "m1$(id)",
    "m1%00", "m1\u200b", "\uff4d1",
]
BAD_NAME_VALUES = [1, 1.5, None, True, [], ["m1"], {"a": 1}]


def random_name(rng: random.Random) -> str:
    """Mostly invalid names: fixed tricky ones and random strings of odd characters."""
    if rng.random() < 0.5:
        return rng.choice(BAD_NAMES)
    alphabet = "aZ09._-/\\%. :;\x00\t\n\u00e9\u4e2d\U0001f600\u202e"
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 2, 5, 20, 130, 300])))


class MultiRun(Run):
    """The multi-model run keeps its own view of which models are loaded."""

    def __init__(self, server: Server):
        super().__init__(server, "multi-model")
        self.loaded: set[str] = set()

    def route(self) -> tuple[str, dict[str, str]]:
        name = self.rng.choice(sorted(self.loaded))
        if self.rng.random() < 0.5:
            return f"/models/{name}/invoke", {}
        return "/invocations", {self.rng.choice([TARGET, TARGET.lower()]): name}

    def load(self, name: str, url: str) -> Case:
        allowed = frozenset({409}) if name in self.loaded else OK
        self.loaded.add(name)
        body = _json({"model_name": name, "url": url})
        return Case("mm sequence", "load", "POST", "/models", body, {"Content-Type": JSON},
                    allowed, self.entry_check(name))

    @staticmethod
    def entry_check(name: str) -> Callable:
        def check(response: Response) -> str | None:
            data = response.json()
            if data.get("model_name") != name or data.get("url") != MODEL_URL:
                return f"wrong entry {data!r} for {name!r}"
            return None

        return check

    def list_check(self) -> Callable:
        wanted = sorted(self.loaded)

        def check(response: Response) -> str | None:
            found = sorted(entry["model_name"] for entry in response.json()["models"])
            return None if found == wanted else f"listed {found}, expected {wanted}"

        return check


def name_path(rng: random.Random, name: str) -> str:
    """The name in a path: percent-encoded, or raw when it can be sent raw."""
    if rng.random() < 0.3 and re.fullmatch(r"[!-~]*", name) and not set("%?#") & set(name):
        return name
    return urllib.parse.quote(name, safe="")


def mm_names(run: MultiRun) -> Case:
    """describe / unload / invoke under random (mostly invalid) names."""
    rng = run.rng
    name = random_name(rng) if rng.random() < 0.8 else rng.choice(POOL)
    valid = bool(VALID_NAME.fullmatch(name))
    loaded = valid and name in run.loaded
    op = rng.choice(["describe", "unload", "invoke"])
    segment = name_path(rng, name)
    allowed = frozenset({404}) if valid else ANY_4XX
    check = None
    if op == "describe":
        method, path, body = "GET", f"/models/{segment}", None
        if loaded:
            allowed, check = OK, run.entry_check(name)
    elif op == "unload":
        method, path, body = "DELETE", f"/models/{segment}", None
        if loaded:
            allowed = OK
            run.loaded.discard(name)
    else:
        X, labels = run.rows()
        method, path, body = "POST", f"/models/{segment}/invoke", csv_body(rng, X)
        if loaded:
            allowed, check = OK, labels_check(labels)
    return Case("mm name", f"{op} {name[:40]!r}", method, path, body, {"Content-Type": CSV},
                allowed, check)


def mm_bad_loads(run: MultiRun) -> Case:
    """POST /models with bad payloads: all 400 (413 over the size limit)."""
    rng = run.rng
    fresh = "fz-unused"  # a valid name, never loaded
    bad = frozenset({400})
    how = rng.randrange(7)
    if how == 0:
        payload = {"model_name": fresh, "url": rng.choice(BAD_URLS)}
        return Case("mm load", "bad url", "POST", "/models", _json(payload),
                    {"Content-Type": JSON}, bad)
    if how == 1:
        name = rng.choice([*BAD_NAMES, *BAD_NAME_VALUES, random_name(rng)])
        if isinstance(name, str) and VALID_NAME.fullmatch(name):
            name = "." + name
        payload = {"model_name": name, "url": MODEL_URL}
        return Case("mm load", "bad name", "POST", "/models", _json(payload),
                    {"Content-Type": JSON}, bad)
    if how == 2:
        payload = rng.choice([
            {}, {"model_name": fresh}, {"url": MODEL_URL}, {"name": fresh, "url": MODEL_URL},
            {"model_name": fresh, "uri": MODEL_URL}, [fresh, MODEL_URL], fresh, None, 1, [],
            {"model_name": {"url": MODEL_URL}},
        ])
        return Case("mm load", "missing or wrong fields", "POST", "/models", _json(payload),
                    {"Content-Type": JSON}, bad)
    good = _json({"model_name": fresh, "url": MODEL_URL})
    if how == 3:  # a good payload under another type: not JSON to the server
        content_type = rng.choice([None, "text/plain", CSV, "application/x-www-form-urlencoded"])
        return Case("mm load", "not JSON content type", "POST", "/models", good,
                    {"Content-Type": content_type} if content_type else {}, bad)
    if how == 4:  # broken JSON, or JSON that is not an object
        X, y = run.rows()
        what = rng.choice(["truncated", "unbalanced brackets", "deeply nested", "encodings",
                           "not quite JSON", "scalars", "huge numbers"])
        body = JSON_CASES[what](run, X, y)[0]
        return Case("mm load", f"broken JSON: {what}", "POST", "/models", body,
                    {"Content-Type": JSON}, bad)
    if how == 5:
        body = good + b" " * (LIMIT + rng.randint(1, 2048) - len(good))
        return Case("mm load", "over the size limit", "POST", "/models", body,
                    {"Content-Type": JSON}, frozenset({413}))
    return Case("mm load", "random bytes", "POST", "/models", rng.randbytes(rng.randint(0, 2048)),
                {"Content-Type": rng.choice([JSON, "application/json; charset=utf-8"])}, bad)


def mm_sequence(run: MultiRun) -> Case:
    """Valid names from a small pool: load / unload / describe / invoke / list."""
    rng = run.rng
    name = rng.choice(POOL)
    op = rng.choice(["load", "load", "unload", "describe", "invoke", "list"])
    if op == "load":
        return run.load(name, rng.choice(GOOD_URLS))
    if op == "list":
        return Case("mm sequence", "list", "GET", "/models", None, {}, OK, run.list_check())
    loaded = name in run.loaded
    path = f"/models/{name}"
    if op == "unload":
        run.loaded.discard(name)
        return Case("mm sequence", "unload", "DELETE", path, None, {},
                    OK if loaded else frozenset({404}))
    if op == "describe":
        return Case("mm sequence", "describe", "GET", path, None, {},
                    OK if loaded else frozenset({404}), run.entry_check(name))
    X, labels = run.rows()
    body, content_type = good_body(run, X)
    headers = {"Content-Type": content_type}
    if rng.random() < 0.5:
        path = f"/models/{name}/invoke"
    else:
        path, headers[TARGET] = "/invocations", name
    return Case("mm sequence", "invoke", "POST", path, body, headers,
                OK if loaded else frozenset({404}), labels_check(labels))


def mm_target_header(run: MultiRun) -> Case:
    """/invocations with odd X-Amzn-SageMaker-Target-Model values."""
    rng = run.rng
    X, labels = run.rows()
    headers = {"Content-Type": CSV}
    how = rng.randrange(4)
    if how == 0:
        what, allowed = "no header", frozenset({400})
    elif how == 1:
        headers[TARGET] = ""
        what, allowed = "empty header", frozenset({400})
    else:
        name = random_name(rng).replace("\n", "").replace("\r", "").strip(" \t")
        if how == 3:
            name = rng.choice([*POOL, "fz-unused"])
        valid = bool(VALID_NAME.fullmatch(name))
        # Header values go out as latin-1: send other characters as their UTF-8 bytes.
        headers[TARGET] = name.encode("utf-8").decode("latin-1")
        what = f"target {name[:40]!r}"
        if not name:
            allowed = frozenset({400})
        elif valid and name in run.loaded:
            allowed = OK
        else:
            allowed = frozenset({404}) if valid else ANY_4XX
    return Case("mm target", what, "POST", "/invocations", csv_body(rng, X), headers, allowed,
                labels_check(labels))


def mm_methods(run: MultiRun) -> Case:
    rng = run.rng
    name = rng.choice(sorted(run.loaded))
    method, path, allowed = rng.choice([
        *[(m, "/models", frozenset({405})) for m in ("PUT", "DELETE", "PATCH")],
        *[(m, f"/models/{name}/invoke", frozenset({405})) for m in ("GET", "PUT", "DELETE")],
        *[(m, f"/models/{name}", frozenset({405})) for m in ("POST", "PUT", "PATCH")],
        ("GET", "/invocations", frozenset({405})),
        ("OPTIONS", "/models", OK), ("HEAD", "/models", OK), ("HEAD", f"/models/{name}", OK),
        ("POST", f"/models/{name}/invoke/x", frozenset({404})),
        ("POST", f"/models/{name}/predict", frozenset({404})),
        ("GET", "/models/", frozenset({404})),
        ("TRACE", "/models", ANY_4XX),
        ("POST", boundary_path(rng, "/models/"), ANY_4XX),
    ])
    body = csv_body(rng, run.rows()[0]) if method not in ("GET", "HEAD") else None
    return Case("method/path", f"{method} {path[:40]}", method, path, body,
                {"Content-Type": CSV}, allowed)


def on_loaded_model(family: Callable[[Run], Case]) -> Callable[[Run], Case]:
    """A single-model body family, sent to a loaded model of the multi-model server."""

    def generate(run: Run) -> Case:
        case = family(run)
        case.kind = f"mm {case.kind}"
        return case

    return generate


MULTI_FAMILIES: list[tuple[Callable[[Run], Case], int]] = [
    (mm_names, 5),
    (mm_bad_loads, 5),
    (mm_sequence, 6),
    (mm_target_header, 3),
    (mm_methods, 1),
    (on_loaded_model(table_family("json", JSON_CASES)), 2),
    (on_loaded_model(table_family("csv", CSV_CASES)), 2),
    (on_loaded_model(table_family("npy", NPY_CASES)), 2),
    (on_loaded_model(random_bytes), 1),
    (on_loaded_model(content_types), 1),
    (on_loaded_model(accepts), 1),
    (on_loaded_model(sizes), 1),
    (on_loaded_model(empty_bodies), 1),
]


@pytest.fixture(scope="module")
def fuzz_models(trees, model_dir):
    """/opt/ml/models with m1 (a model), empty (no model) and notadir.txt (a file)."""
    root = trees.new("fuzz-models")
    models = os.path.join(root, "models")
    os.makedirs(os.path.join(models, "m1"))
    shutil.copy(os.path.join(model_dir, "model.joblib"), os.path.join(models, "m1"))
    os.makedirs(os.path.join(models, "empty"))
    with open(os.path.join(models, "notadir.txt"), "w") as handle:
        handle.write("not a model directory\n")
    return models


@pytest.fixture(scope="module")
def multi_server(docker, image, fuzz_models):
    srv = start_server(
        docker,
        image,
        "fuzz-multi",
        env={
            "SAGEMAKER_MULTI_MODEL": "true",
            "SAGEMAKER_NUM_MODEL_WORKERS": str(WORKERS),
            "MAX_CONTENT_LENGTH": str(LIMIT),
        },
        volumes=[f"{fuzz_models}:{MODELS}:ro"],
    )
    yield srv
    docker.remove(srv.name)


def test_fuzz_multi_model(multi_server):
    run = MultiRun(multi_server)
    print(f"\nfuzz multi-model: FUZZ_SEED={SEED} FUZZ_REQUESTS={REQUESTS}")
    run.send(run.load("base", MODEL_URL))
    for i in range(REQUESTS):
        run.send(pick(run.rng, MULTI_FAMILIES)(run))
        if i % GOOD_EVERY == GOOD_EVERY - 1:
            run.send(good_case(run))
    run.send(Case("mm sequence", "final list", "GET", "/models", None, {}, OK, run.list_check()))
    assert "base" in run.loaded
    assert_still_serving(run)
    print(run.summary())
