"""application/x-recordio-protobuf: the format SageMaker's built-in algorithms read.

Autopilot's and AWS's inference pipelines send features in this format from the
scikit-learn container to e.g. Linear Learner. Each row becomes one
``aialgs.data.Record`` protobuf message (features under the key ``"values"``,
optionally a label under ``"values"`` too), framed as a RecordIO record: a magic
number, the length, the message, zero padding to a multiple of 4 bytes.

The message classes are built at import time from a descriptor written here in
Python (the same schema as the SageMaker Python SDK's record.proto), in a pool
of their own, so no generated code is needed and a user's own copy of the
schema never clashes with ours.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from scipy import sparse

CONTENT_TYPE = "application/x-recordio-protobuf"
MAGIC = 0xCED7230A
_F = descriptor_pb2.FieldDescriptorProto


def _file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(
        name="sagemaker_sklearn_container/record.proto", package="aialgs.data", syntax="proto2"
    )
    for name, value_type in (
        ("Float32Tensor", _F.TYPE_FLOAT),
        ("Float64Tensor", _F.TYPE_DOUBLE),
        ("Int32Tensor", _F.TYPE_INT32),
    ):
        tensor = proto.message_type.add(name=name)
        for number, field_name, field_type in (
            (1, "values", value_type),
            (2, "keys", _F.TYPE_UINT64),
            (3, "shape", _F.TYPE_UINT64),
        ):
            field = tensor.field.add(
                name=field_name, number=number, label=_F.LABEL_REPEATED, type=field_type
            )
            field.options.packed = True
    raw = proto.message_type.add(name="Bytes")
    raw.field.add(name="value", number=1, label=_F.LABEL_REPEATED, type=_F.TYPE_BYTES)
    raw.field.add(name="content_type", number=2, label=_F.LABEL_OPTIONAL, type=_F.TYPE_STRING)
    value = proto.message_type.add(name="Value")
    value.oneof_decl.add(name="value")
    for number, field_name, type_name in (
        (2, "float32_tensor", "Float32Tensor"),
        (3, "float64_tensor", "Float64Tensor"),
        (7, "int32_tensor", "Int32Tensor"),
        (9, "bytes", "Bytes"),
    ):
        value.field.add(
            name=field_name,
            number=number,
            label=_F.LABEL_OPTIONAL,
            type=_F.TYPE_MESSAGE,
            type_name=".aialgs.data." + type_name,
            oneof_index=0,
        )
    record = proto.message_type.add(name="Record")
    for number, field_name, entry in ((1, "features", "FeaturesEntry"), (2, "label", "LabelEntry")):
        nested = record.nested_type.add(name=entry)
        nested.options.map_entry = True
        nested.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL, type=_F.TYPE_STRING)
        nested.field.add(
            name="value",
            number=2,
            label=_F.LABEL_OPTIONAL,
            type=_F.TYPE_MESSAGE,
            type_name=".aialgs.data.Value",
        )
        record.field.add(
            name=field_name,
            number=number,
            label=_F.LABEL_REPEATED,
            type=_F.TYPE_MESSAGE,
            type_name=f".aialgs.data.Record.{entry}",
        )
    for number, field_name in ((3, "uid"), (4, "metadata"), (5, "configuration")):
        record.field.add(
            name=field_name, number=number, label=_F.LABEL_OPTIONAL, type=_F.TYPE_STRING
        )
    return proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file_descriptor())
Record = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("aialgs.data.Record"))

# dtype -> the Value field that holds it; anything else is written as float32.
_TENSORS = {
    np.dtype("float64"): "float64_tensor",
    np.dtype("float32"): "float32_tensor",
    np.dtype("int32"): "int32_tensor",
}


def _tensor_field(dtype: np.dtype) -> tuple[str, np.dtype]:
    if dtype in _TENSORS:
        return _TENSORS[dtype], dtype
    if np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.bool_):
        return "int32_tensor", np.dtype("int32")
    return "float32_tensor", np.dtype("float32")


def _frame(payload: bytes) -> bytes:
    padding = (-len(payload)) % 4
    return struct.pack("<II", MAGIC, len(payload)) + payload + b"\x00" * padding


def _set_label(record: Any, label: Any, label_field: str) -> None:
    getattr(record.label["values"], label_field).values.append(label)


def write(array_like: Any, labels: Any = None) -> bytes:
    """Encode a 1-D/2-D array (dense or scipy sparse) as RecordIO-protobuf, one record a row."""
    matrix = array_like if sparse.issparse(array_like) else np.asarray(array_like)
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2:
        raise ValueError(f"recordio-protobuf needs a 1-D or 2-D array, got {matrix.ndim}-D")
    if not sparse.issparse(matrix) and matrix.dtype.kind not in "biuf":
        try:
            matrix = matrix.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"recordio-protobuf needs numeric values: {exc}") from exc
    field, dtype = _tensor_field(matrix.dtype)
    label_values = None
    if labels is not None:
        label_values = (labels.toarray() if sparse.issparse(labels) else np.asarray(labels)).ravel()
        if label_values.shape[0] != matrix.shape[0]:
            raise ValueError(f"{label_values.shape[0]} labels for {matrix.shape[0]} rows")
        label_field, label_dtype = _tensor_field(label_values.dtype)
        label_values = label_values.astype(label_dtype)
    out = io.BytesIO()
    record = Record()
    rows = matrix.tocsr() if sparse.issparse(matrix) else matrix
    for index in range(rows.shape[0]):
        record.Clear()
        tensor = getattr(record.features["values"], field)
        if sparse.issparse(rows):
            row = rows.getrow(index)
            tensor.values.extend(row.data.astype(dtype).tolist())
            tensor.keys.extend(row.indices.astype(np.uint64).tolist())
            tensor.shape.append(rows.shape[1])
        else:
            tensor.values.extend(rows[index].astype(dtype).tolist())
        if label_values is not None:
            _set_label(record, label_values[index].item(), label_field)
        out.write(_frame(record.SerializeToString()))
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
