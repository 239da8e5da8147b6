import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from sagemaker_sklearn_container import encoders, recordio
from sagemaker_sklearn_container.encoders import (
    CSV,
    JSON,
    NPY,
    DecodeError,
    UnsupportedAccept,
    UnsupportedContentType,
)


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_decode_json_list_and_envelopes():
    assert encoders.decode(b"[[1, 2], [3, 4]]", JSON).shape == (2, 2)
    assert encoders.decode(
        b'{"instances": [[1], [2]]}', "application/json; charset=utf-8"
    ).shape == (2, 1)
    assert encoders.decode(b'{"inputs": [1, 2, 3]}', JSON).tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    "body",
    [b"[[1, 2", b'{"other": 1}', b"[[1, 2], [3]]", b"\xff\xfe", b""],
)
def test_decode_json_malformed(body):
    with pytest.raises(DecodeError):
        encoders.decode(body, JSON)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the interpreter's stack
        b'{"instances": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b"[[" + b"9" * 5_000 + b"]]",  # over Python's 4300-digit limit for int()
    ],
    ids=["deep", "deep-envelope", "long-int"],
)
def test_decode_json_fuzz_findings_are_400(body):
    with pytest.raises(DecodeError):
        encoders.decode(body, JSON)


def test_decode_csv():
    array = encoders.decode(b"1,2\n3,4\n", CSV)
    assert array.dtype == float
    assert array.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    mixed = encoders.decode(b"a,1\nb,2\n", "text/csv")
    assert mixed.dtype == object


def test_decode_csv_any_line_ending():
    # A lone \r used to raise csv.Error ("new-line character seen in unquoted field"): 500.
    for body in (b"1,2\r3,4", b"1,2\r\n3,4\r\n", b"1,2\n3,4\r", b'1,"2"\r3,4\n'):
        assert encoders.decode(body, CSV).tolist() == [[1.0, 2.0], [3.0, 4.0]], body


@pytest.mark.parametrize("body", [b"1,2\n3\n", b"\n\n", b"1," + b"9" * 200_000])
def test_decode_csv_malformed(body):
    with pytest.raises(DecodeError):
        encoders.decode(body, CSV)


def test_decode_npy_round_trip():
    array = np.arange(6, dtype=float).reshape(2, 3)
    assert np.array_equal(encoders.decode(npy_bytes(array), NPY), array)


def test_decode_npy_never_unpickles():
    pickled = npy_bytes(np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DecodeError, match="pickle"):
        encoders.decode(pickled, NPY)


def test_decode_npy_garbage():
    with pytest.raises(DecodeError):
        encoders.decode(b"not an npy file at all", NPY)
    with pytest.raises(DecodeError):
        encoders.decode(npy_bytes(np.arange(100))[:60], NPY)


def npy_with_header(header: str, data: bytes = b"\0" * 64) -> bytes:
    text = header + " " * (117 - len(header)) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode() + data


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000, 4), }",  # MemoryError
        "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999, 4), }",  # C long
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4), ",  # tokenize.TokenError
        "{'descr': '2)<f8', 'fortran_order': False, 'shape': (2, 4), }",  # SyntaxError
    ],
    ids=["huge-shape", "shape-overflow", "unclosed-header", "header-syntax"],
)
def test_decode_npy_broken_headers_are_400(header):
    with pytest.raises(DecodeError):
        encoders.decode(npy_with_header(header), NPY)


def test_decode_unsupported_type():
    with pytest.raises(UnsupportedContentType) as info:
        encoders.decode(b"x", "application/xml")
    assert info.value.status == 415


def test_encode_json_handles_numpy_and_pandas():
    assert json.loads(encoders.encode(np.array([1.5, 2.5]), JSON)) == [1.5, 2.5]
    assert json.loads(encoders.encode(np.float32(2.0), JSON)) == 2.0
    assert json.loads(encoders.encode(pd.Series([1, 2]), JSON)) == [1, 2]
    assert json.loads(encoders.encode({"p": np.array([1]), "t": (np.int64(3),)}, JSON)) == {
        "p": [1],
        "t": [3],
    }


def test_encode_csv_shapes():
    assert encoders.encode(np.array([1, 2]), CSV) == b"1\n2\n"
    assert encoders.encode(np.array([[1, 2], [3, 4]]), CSV) == b"1,2\n3,4\n"
    assert encoders.encode(5, CSV) == b"5\n"


def test_encode_npy():
    body = encoders.encode([[1.0, 2.0]], NPY)
    assert np.load(io.BytesIO(body), allow_pickle=False).tolist() == [[1.0, 2.0]]


def test_encode_unsupported():
    with pytest.raises(UnsupportedAccept):
        encoders.encode([1], "application/xml")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("text/csv", CSV),
        ("application/xml, application/x-npy;q=0.5", NPY),
        ("text/*", CSV),
        ("application/*", JSON),
    ],
)
def test_choose_accept(header, expected):
    assert encoders.choose_accept(header, JSON) == expected


def test_choose_accept_refuses_unknown():
    with pytest.raises(UnsupportedAccept) as info:
        encoders.choose_accept("application/xml", JSON)
    assert info.value.status == 406


def test_jsonlines_requests_and_responses():
    assert encoders.decode(
        b'[1, 2]\n\n{"features": [3, 4]}\n', "application/jsonlines"
    ).tolist() == [
        [1, 2],
        [3, 4],
    ]
    assert encoders.decode(b"[1]\n", "application/jsonl").tolist() == [[1]]
    for body, why in (
        (b"[1]\n{nope\n", "line 2"),
        (b'{"x": 1}\n', "features"),
        (b"", "empty"),
        (b"\n\n", "no records"),
        (b"[1]\n[1, 2]\n", "rectangular"),
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
    ):
        with pytest.raises(encoders.DecodeError, match=why):
            encoders.decode(body, "application/jsonlines")
    assert (
        encoders.encode(np.array([[1, 2], [3, 4]]), "application/jsonlines") == b"[1, 2]\n[3, 4]\n"
    )
    assert encoders.encode(5, "application/jsonlines") == b"5\n"
    assert encoders.choose_accept("application/x-jsonlines", "application/json") == (
        "application/jsonlines"
    )


def test_recordio_protobuf_responses():
    body = encoders.encode(np.array([1.0, 2.0]), "application/x-recordio-protobuf")
    assert recordio.read(body).tolist() == [[1.0, 2.0]]
    body = encoders.encode(sparse.csr_matrix([[0.0, 5.0]]), "application/x-recordio-protobuf")
    assert recordio.read(body).tolist() == [[0.0, 5.0]]
    with pytest.raises(encoders.UnsupportedAccept, match="numeric"):
        encoders.encode(np.array(["cat"], dtype=object), "application/x-recordio-protobuf")
    with pytest.raises(encoders.UnsupportedAccept, match="3-D"):
        encoders.encode(np.zeros((1, 1, 1)), "application/x-recordio-protobuf")


def test_recordio_reader_refuses_garbage():
    good = recordio.write(np.array([[1.0]]))
    for data, why in (
        (good[:5], "truncated RecordIO header"),
        (b"\x00" * 8, "magic"),
        (good[:-4], "truncated RecordIO record"),
    ):
        with pytest.raises(ValueError, match=why):
            list(recordio.iter_records(data))
    with pytest.raises(ValueError, match="2 labels for 1 rows"):
        recordio.write(np.array([[1.0]]), labels=[1, 2])
    labelled = recordio.write(np.array([[1.0]]), labels=sparse.csr_matrix([[7]]))
    assert next(recordio.iter_records(labelled)).label["values"].int32_tensor.values[0] == 7
    assert recordio.read(recordio.write(np.array([[True]]))).tolist() == [[1]]


def test_sparse_predictions_encode_as_json():
    assert encoders.encode(sparse.csr_matrix([[1, 0]]), "application/json") == b"[[1, 0]]"


def test_numeric_csv_is_written_as_the_csv_module_writes_it():
    rng = np.random.default_rng(7)
    scaled = rng.normal(size=(50, 40)) * 10.0 ** rng.integers(-30, 30, size=(50, 40))
    special = np.array([[0.0, -0.0, np.nan, np.inf, -np.inf, 1e16, 1e-5, 5e-324]])
    for array in (
        scaled,
        special,
        scaled[0],  # one prediction per line
        np.float64(2.5),
        rng.integers(-(2**62), 2**62, size=(7, 3)),
        np.arange(5, dtype=np.uint8),
        np.zeros((0, 3)),
    ):
        buffer = io.StringIO()
        rows = np.asarray(array, dtype=object).reshape(
            -1, array.shape[-1] if array.ndim == 2 else 1
        )
        csv.writer(buffer, lineterminator="\n").writerows(rows.tolist())
        assert encoders.encode(array, "text/csv") == buffer.getvalue().encode(), array
