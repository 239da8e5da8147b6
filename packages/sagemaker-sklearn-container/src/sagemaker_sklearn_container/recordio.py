"""application/x-recordio-protobuf: the format SageMaker's built-in algorithms read.

Autopilot's and AWS's inference pipelines send features in this format from the
scikit-learn container to e.g. Linear Learner. Each row becomes one
``aialgs.data.Record`` protobuf message (features under the key ``"values"``,
optionally a label under ``"values"`` too), framed as a RecordIO record: a magic
number, the length, the message, zero padding to a multiple of 4 bytes.

The messages and their framing are sagemaker-training's (``record_pb2`` and the
writers in ``sagemaker_training.recordio``, the code sagemaker-containers' own
``array_to_recordio_protobuf`` used); this module gives them the shapes and dtypes a
prediction may have, and a reader that says what is wrong with a bad stream.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
from sagemaker_training import recordio as _sm_recordio
from sagemaker_training.record_pb2 import Record
from scipy import sparse

CONTENT_TYPE = "application/x-recordio-protobuf"
MAGIC = 0xCED7230A


def _writable(values: Any) -> Any:
    """The dtypes sagemaker-training's writers take: float32, float64, or int (as Int32)."""
    if values.dtype in (np.dtype("float32"), np.dtype("float64")):
        return values
    if np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.bool_):
        return values.astype(int)
    return values.astype(np.float32)


def write(array_like: Any, labels: Any = None) -> bytes:
    """Encode a 1-D/2-D array (dense or scipy sparse) as RecordIO-protobuf, one record a row."""
    matrix = array_like.tocsr() if sparse.issparse(array_like) else np.asarray(array_like)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2:
        raise ValueError(f"recordio-protobuf needs a 1-D or 2-D array, got {matrix.ndim}-D")
    if not sparse.issparse(matrix) and matrix.dtype.kind not in "biuf":
        try:
            matrix = matrix.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"recordio-protobuf needs numeric values: {exc}") from exc
    label_values = None
    if labels is not None:
        label_values = (labels.toarray() if sparse.issparse(labels) else np.asarray(labels)).ravel()
        if label_values.shape[0] != matrix.shape[0]:
            raise ValueError(f"{label_values.shape[0]} labels for {matrix.shape[0]} rows")
        label_values = _writable(label_values)
    out = io.BytesIO()
    if sparse.issparse(matrix):
        _sm_recordio._write_spmatrix_to_sparse_tensor(out, _writable(matrix), label_values)
    else:
        _sm_recordio._write_numpy_to_dense_tensor(out, _writable(matrix), label_values)
    return out.getvalue()


def iter_records(data: bytes) -> Iterator[Any]:
    """Parse RecordIO-protobuf bytes back into Record messages."""
    offset = 0
    while offset < len(data):
        if len(data) - offset < 8:
            raise ValueError("truncated RecordIO header")
        magic, length = struct.unpack_from("<II", data, offset)
        if magic != MAGIC:
            raise ValueError(f"bad RecordIO magic number at byte {offset}")
        start = offset + 8
        if start + length > len(data):
            raise ValueError("truncated RecordIO record")
        record = Record()
        record.ParseFromString(data[start : start + length])
        yield record
        offset = start + length + (-length) % 4


def read(data: bytes) -> np.ndarray:
    """Dense feature rows of RecordIO-protobuf bytes (for tests and simple consumers)."""
    rows = []
    for record in iter_records(data):
        value = record.features["values"]
        tensor = getattr(value, value.WhichOneof("value"))
        if tensor.keys:
            row = np.zeros(tensor.shape[0])
            row[list(tensor.keys)] = list(tensor.values)
        else:
            row = np.asarray(list(tensor.values))
        rows.append(row)
    return np.asarray(rows)
