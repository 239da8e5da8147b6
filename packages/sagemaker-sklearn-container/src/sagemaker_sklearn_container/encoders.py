"""Default request decoding and response encoding.

Requests: application/json, text/csv, application/x-npy, application/jsonlines.
Responses: the same, plus application/x-recordio-protobuf (what SageMaker's
built-in algorithms such as Linear Learner read, e.g. behind a feature
transform in an inference pipeline). NPY payloads are always loaded with
``allow_pickle=False``: a request body must never be able to run code in the server.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

from sagemaker_sklearn_container import recordio

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
JSONLINES = "application/jsonlines"
RECORDIO_PROTOBUF = recordio.CONTENT_TYPE
# Other names clients use for JSON Lines.
JSONLINES_ALIASES = ("application/jsonl", "application/x-jsonlines")
SUPPORTED = (JSON, CSV, NPY, JSONLINES)
ACCEPTED = (*SUPPORTED, RECORDIO_PROTOBUF)


class RequestError(Exception):
    """A problem with the request itself; carries the HTTP status to answer with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DecodeError(RequestError):
    status = 400


class UnsupportedContentType(RequestError):
    status = 415


class UnsupportedAccept(RequestError):
    status = 406


def media_type(header: str | None) -> str:
    """``'text/csv; charset=utf-8'`` -> ``'text/csv'`` (JSON Lines aliases -> one name)."""
    kind = (header or "").split(";", 1)[0].strip().lower()
    return JSONLINES if kind in JSONLINES_ALIASES else kind


def choose_accept(header: str | None, default: str) -> str:
    """Pick the first supported type from an Accept header (``*/*`` means the default)."""
    if not header or not header.strip():
        return default
    for part in header.split(","):
        candidate = media_type(part)
        if candidate in ("*/*", "application/*", ""):
            return default
        if candidate == "text/*":
            return CSV
        if candidate in ACCEPTED:
            return candidate
    raise UnsupportedAccept(f"Accept {header!r} is not supported; use one of {', '.join(ACCEPTED)}")


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"request body is not valid UTF-8: {exc}") from exc


def decode(body: bytes | str, content_type: str | None) -> np.ndarray:
    """Turn a request body into a numpy array."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    kind = media_type(content_type)
    if kind not in SUPPORTED:
        raise UnsupportedContentType(
            f"Content-Type {content_type!r} is not supported; use one of {', '.join(SUPPORTED)}"
        )
    if not body:
        raise DecodeError("request body is empty")
    if kind == JSON:
        return _decode_json(body)
    if kind == CSV:
        return _decode_csv(body)
    if kind == JSONLINES:
        return _decode_jsonlines(body)
    return _decode_npy(body)


def _decode_json(body: bytes) -> np.ndarray:
    try:
        data = json.loads(_text(body))
    except json.JSONDecodeError as exc:
        raise DecodeError(f"malformed JSON: {exc}") from exc
    except ValueError as exc:  # an integer literal longer than Python's 4300-digit limit
        raise DecodeError(f"JSON number out of range: {exc}") from exc
    except RecursionError as exc:  # [[[[... nested deeper than the interpreter's stack
        raise DecodeError("JSON is nested too deeply") from exc
    # Accept the common {"instances": [...]} / {"inputs": [...]} envelopes too.
    if isinstance(data, dict):
        for key in ("instances", "inputs"):
            if key in data:
                data = data[key]
                break
        else:
            raise DecodeError('JSON object must hold an "instances" or "inputs" list')
    try:
        return np.asarray(data)
    except ValueError as exc:  # ragged nested lists
        raise DecodeError(f"JSON is not a rectangular array: {exc}") from exc


def _decode_jsonlines(body: bytes) -> np.ndarray:
    """One JSON value per line: a row list, or an object with "features"/"instances"."""
    rows = []
    for number, line in enumerate(_text(body).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:  # JSONDecodeError, or a number over the digit limit
            raise DecodeError(f"malformed JSON on line {number}: {exc}") from exc
        except RecursionError as exc:
            raise DecodeError(f"JSON on line {number} is nested too deeply") from exc
        if isinstance(row, dict):
            for key in ("features", "instances", "inputs"):
                if key in row:
                    row = row[key]
                    break
            else:
                raise DecodeError(f'line {number}: a JSON object needs a "features" list')
        rows.append(row)
    if not rows:
        raise DecodeError("JSON Lines body has no records")
    try:
        return np.asarray(rows)
    except ValueError as exc:
        raise DecodeError(f"JSON Lines records are not a rectangular array: {exc}") from exc


def _decode_csv(body: bytes) -> np.ndarray:
    # newline="": the csv module itself splits rows on \n, \r\n or a lone \r.
    try:
        rows = [row for row in csv.reader(io.StringIO(_text(body), newline="")) if row]
    except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
        raise DecodeError(f"malformed CSV: {exc}") from exc
    if not rows:
        raise DecodeError("CSV body has no rows")
    if len({len(row) for row in rows}) != 1:
        raise DecodeError("CSV rows have different numbers of columns")
    try:
        return np.array(rows, dtype=float)
    except ValueError:
        # Non-numeric columns (e.g. categories for a pipeline) stay as strings.
        return np.array(rows, dtype=object)


def _decode_npy(body: bytes) -> np.ndarray:
    try:
        return np.load(io.BytesIO(body), allow_pickle=False)
    except ValueError as exc:
        raise DecodeError(f"malformed or pickled NPY payload: {exc}") from exc
    except (MemoryError, OverflowError) as exc:  # a header declaring an absurd shape
        raise DecodeError(f"NPY header declares an impossible array: {exc}") from exc
    except Exception as exc:
        # np.load parses the header with tokenize/ast (TokenError, SyntaxError, ...).
        # Without pickle it runs no code: whatever fails here is the payload's fault.
        raise DecodeError(f"malformed NPY payload: {type(exc).__name__}: {exc}") from exc


def _to_plain(obj: Any) -> Any:
    """numpy / pandas values -> JSON-serialisable Python values."""
    if hasattr(obj, "to_numpy"):  # pandas DataFrame / Series
        obj = obj.to_numpy()
    if hasattr(obj, "toarray"):  # scipy sparse matrix
        obj = obj.toarray()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (list, tuple)):
        return [_to_plain(item) for item in obj]
    if isinstance(obj, dict):
        return {str(key): _to_plain(value) for key, value in obj.items()}
    return obj


def encode(obj: Any, accept: str) -> bytes:
    """Serialise a prediction for the chosen Accept type."""
    if accept == JSON:
        return json.dumps(_to_plain(obj)).encode("utf-8")
    if accept == CSV:
        return _encode_csv(obj)
    if accept == NPY:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(_to_plain(obj)), allow_pickle=False)
        return buffer.getvalue()
    if accept == JSONLINES:
        array = _to_plain(obj)
        rows = array if isinstance(array, list) else [array]
        return "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")
    if accept == RECORDIO_PROTOBUF:
        try:
            return recordio.write(obj if hasattr(obj, "toarray") else np.asarray(_to_plain(obj)))
        except ValueError as exc:
            raise UnsupportedAccept(f"cannot answer in {accept}: {exc}") from exc
    raise UnsupportedAccept(f"Accept {accept!r} is not supported")


def _numpy_formats_as_csv(array: np.ndarray) -> bool:
    """numpy writes float64 exactly as repr() does (the shortest round trip) and integers in
    decimal, as the csv module would, and far faster than csv's one call a value. (float32
    is not among them: csv writes its value as a double, numpy its own shortest form.)"""
    return array.dtype == np.float64 or array.dtype.kind in "iu"


def _encode_csv_numeric(array: np.ndarray) -> bytes:
    if array.ndim < 2:
        array = array.reshape(-1, 1)  # one prediction per line
    return "".join(",".join(row) + "\n" for row in array.astype(str)).encode("ascii")


def _encode_csv(obj: Any) -> bytes:
    if isinstance(obj, np.ndarray) and obj.ndim <= 2 and _numpy_formats_as_csv(obj):
        return _encode_csv_numeric(obj)
    array = np.asarray(_to_plain(obj), dtype=object)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)  # one prediction per line
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(array.tolist())
    return buffer.getvalue().encode("utf-8")
