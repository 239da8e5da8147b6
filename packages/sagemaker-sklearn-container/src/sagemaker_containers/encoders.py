"""``encoders`` as upstream scripts call it, on top of this image's own encoders.

Differences from sagemaker-containers, on purpose: ``npy_to_numpy`` never unpickles
(``allow_pickle=False``: a request body must not run code), and ``decode``/``encode``
also know JSON Lines and (``encode``) RecordIO-protobuf.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

from sagemaker_containers import content_types, errors
from sagemaker_sklearn_container import encoders as _ours
from sagemaker_sklearn_container import recordio


def _text(data: Any) -> str:
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.ClientError(f"body is not valid UTF-8: {exc}") from exc
    return data


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "toarray"):
        return value.toarray().tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def array_to_npy(array_like: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array_like))
    return buffer.getvalue()


def npy_to_numpy(npy_array: Any) -> np.ndarray:
    try:
        return np.load(io.BytesIO(bytes(npy_array)), allow_pickle=False)
    except Exception as exc:
        raise errors.ClientError(f"malformed or pickled NPY payload: {exc}") from exc


def array_to_json(array_like: Any) -> str:
    if hasattr(array_like, "toarray"):
        array_like = array_like.toarray()
    return json.dumps(array_like, default=_default)


def json_to_numpy(string_like: Any, dtype: Any = None) -> np.ndarray:
    try:
        return np.array(json.loads(_text(string_like)), dtype=dtype)
    except (ValueError, TypeError, RecursionError) as exc:
        raise errors.ClientError(f"error while decoding JSON: {exc}") from exc


def csv_to_numpy(string_like: Any, dtype: Any = None) -> np.ndarray:
    """CSV text -> array, squeezed as upstream did (one row gives a 1-D array)."""
    try:
        rows = [row for row in csv.reader(io.StringIO(_text(string_like)), strict=True) if row]
        return np.array(rows).squeeze().astype(dtype)
    except errors.ClientError:
        raise
    except Exception as exc:  # csv.Error, ragged rows, text where dtype wants numbers
        raise errors.ClientError(f"error while decoding CSV: {exc}") from exc


def array_to_csv(array_like: Any) -> str:
    if hasattr(array_like, "toarray"):
        array_like = array_like.toarray()
    array = np.array(array_like)
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)
    stream = io.StringIO()
    try:
        csv.writer(stream, lineterminator="\n", strict=True).writerows(array)
    except csv.Error as exc:
        raise errors.ClientError(f"error while encoding CSV: {exc}") from exc
    return stream.getvalue()


def array_to_jsonlines(array_like: Any) -> str:
    return _ours.encode(array_like, content_types.JSONLINES).decode("utf-8")


def jsonlines_to_numpy(string_like: Any) -> np.ndarray:
    body = string_like.encode("utf-8") if isinstance(string_like, str) else bytes(string_like)
    try:
        return _ours.decode(body, content_types.JSONLINES)
    except _ours.RequestError as exc:
        raise errors.ClientError(exc.message) from exc


def array_to_recordio_protobuf(array_like: Any, labels: Any = None) -> io.BytesIO:
    """Rows (dense or scipy sparse, optionally with labels) as RecordIO-protobuf, in a buffer."""
    try:
        return io.BytesIO(recordio.write(array_like, labels))
    except ValueError as exc:
        raise errors.ClientError(f"error while encoding recordio-protobuf: {exc}") from exc


_DECODERS = {
    content_types.NPY: npy_to_numpy,
    content_types.CSV: csv_to_numpy,
    content_types.JSON: json_to_numpy,
    content_types.JSONLINES: jsonlines_to_numpy,
}
_ENCODERS = {
    content_types.NPY: array_to_npy,
    content_types.CSV: array_to_csv,
    content_types.JSON: array_to_json,
    content_types.JSONLINES: array_to_jsonlines,
    content_types.RECORDIO_PROTOBUF: lambda array: array_to_recordio_protobuf(array).getvalue(),
}


def decode(obj: Any, content_type: str) -> np.ndarray:
    """Request body (str or bytes) of ``content_type`` -> numpy array."""
    decoder = _DECODERS.get(_ours.media_type(content_type))
    if decoder is None:
        raise errors.UnsupportedFormatError(content_type)
    return decoder(obj)


def encode(array_like: Any, content_type: str) -> Any:
    """Array-like -> body of ``content_type`` (str for JSON/CSV/JSON Lines, bytes otherwise)."""
    encoder = _ENCODERS.get(_ours.media_type(content_type))
    if encoder is None:
        raise errors.UnsupportedAcceptError(content_type)
    return encoder(array_like)
