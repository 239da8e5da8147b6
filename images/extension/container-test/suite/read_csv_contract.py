"""read_csv_data's contract, checked inside the extension image on data made here.

The library's own read_data tests need test/data/csv, which the sdist does not ship
(suite-expectations.json skips them); these check the same promises on generated files:
sources (bytes, a file, a directory read recursively in path order, a channel of
SM_INPUT_DATA_CONFIG in File or Pipe mode, an mlio File object), the object array of
strings (``output_dtype="U"`` gives a str array), the target split, the memory limit,
and the errors. Run by test_read_csv.py with -p ext_suite_plugin.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import sys
import threading

import psutil
import pytest
from sagemaker_sklearn_extension.externals import read_csv_data, read_data
from sagemaker_sklearn_extension.externals.read_data import _get_size_total

ROWS = [
    ["1.0", "2", "a,b", 'say "hi"', ""],
    ["007", "x\ny", " padded ", "nan", "NA"],
    ["-3", "", "[1, 2]", "{'k': 1}", "last"],
]


def _write(path, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "b").mkdir()
    _write(tmp_path / "b" / "2.csv", ROWS[2:])
    _write(tmp_path / "a.csv", ROWS[:1])
    _write(tmp_path / "b" / "1.csv", ROWS[1:2])
    return tmp_path


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.csv"
    # Fixed-width fields: read_data estimates the size of a row from the first batch.
    rows = [[f"r{i:05d}", *(f"{i * 7 + j:06d}" for j in range(9))] for i in range(20000)]
    _write(path, rows)
    return str(path)


def test_the_fallback_is_in_use():
    assert read_data.mlio.__name__.endswith("_mlio_compat")


def test_bytes_give_an_object_array_of_the_fields_text():
    data = read_csv_data(source=_csv_bytes(ROWS))
    assert data.dtype.kind == "O"
    assert data.tolist() == ROWS
    assert all(type(v) is str for v in data.ravel())


def test_output_dtype_u():
    data = read_csv_data(source=_csv_bytes(ROWS), output_dtype="U")
    assert data.dtype.kind == "U" and data.tolist() == ROWS


def test_a_directory_is_read_recursively_in_path_order(folder):
    assert read_csv_data(source=str(folder)).tolist() == ROWS
    assert read_csv_data(source=str(folder / "b" / "1.csv")).tolist() == ROWS[1:2]


def test_an_mlio_file_object(folder):
    files = read_data.mlio.list_files(str(folder), pattern="*")
    assert [os.path.relpath(f.id, folder) for f in files] == ["a.csv", "b/1.csv", "b/2.csv"]
    assert read_csv_data(source=files[1]).tolist() == ROWS[1:2]


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_target_split_for_any_batch_size(folder, batch_size):
    X, y = read_csv_data(source=str(folder), batch_size=batch_size, target_column_index=2)
    assert y.tolist() == [row[2] for row in ROWS]
    assert X.tolist() == [row[:2] + row[3:] for row in ROWS]


def test_empty_input_gives_an_empty_array():
    assert read_csv_data(source=b"").size == 0


@pytest.mark.parametrize("output_dtype", ["U", "O"])
def test_memory_limit_samples_down(big_file, output_dtype):
    limit = 2 * 1000**2
    percent = limit / psutil.virtual_memory().total * 100
    X, y = read_csv_data(
        source=big_file,
        fit_memory_percent=percent,
        target_column_index=0,
        output_dtype=output_dtype,
    )
    size = X.nbytes + y.nbytes if output_dtype == "U" else _get_size_total(X) + _get_size_total(y)
    assert 0.95 * limit < size <= limit
    assert 0 < X.shape[0] < 20000 and X.shape[1] == 9
    assert (
        y[0] == "r00000" and X[-1, 0] == f"{(X.shape[0] - 1) * 7:06d}"
    )  # the first rows, in order


def test_the_whole_file_within_the_limit(big_file):
    assert read_csv_data(source=big_file, fit_memory_percent=100.0).shape == (20000, 10)


def test_ragged_rows_are_a_runtime_error_naming_the_source(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("1,2,3\n4,5\n")
    with pytest.raises(RuntimeError, match=r"ragged\.csv.*Expected 3 columns, got 2"):
        read_csv_data(source=str(path))
    with pytest.raises(RuntimeError, match="in-memory buffer"):
        read_csv_data(source=b"1,2\n3\n")


def test_files_of_different_widths_are_an_error(folder):
    _write(folder / "c.csv", [["1", "2"]])
    with pytest.raises(RuntimeError, match=r"c\.csv: 2 columns, but the data read before it has 5"):
        read_csv_data(source=str(folder))


def test_text_that_is_not_utf8_is_an_error():
    with pytest.raises(RuntimeError, match=r"(?i)utf-?8"):
        read_csv_data(source=b"ok,\xff\xfe\n")


def test_a_missing_path_is_file_not_found():
    with pytest.raises(FileNotFoundError, match="/no/such/place"):
        read_csv_data(source="/no/such/place")


def test_channels_of_sm_input_data_config(folder, monkeypatch):
    channel = folder / "train"
    channel.mkdir()
    _write(channel / "part.csv", ROWS)
    config = {"train": {"TrainingInputMode": "File"}, "odd": {}}
    monkeypatch.setenv("SM_INPUT_DATA_CONFIG", json.dumps(config))
    assert read_csv_data(source=str(channel)).tolist() == ROWS
    with pytest.raises(KeyError, match="other"):
        read_csv_data(source=str(folder / "other"))
    with pytest.raises(KeyError, match="TrainingInputMode"):
        read_csv_data(source=str(folder / "odd"))


def test_pipe_mode_reads_the_channel_fifo(tmp_path, monkeypatch):
    channel = tmp_path / "train"
    fifo = f"{channel}_0"  # SageMaker's name for the channel's first epoch
    os.mkfifo(fifo)
    monkeypatch.setenv("SM_INPUT_DATA_CONFIG", json.dumps({"train": {"TrainingInputMode": "Pipe"}}))

    def feed():
        with open(fifo, "wb") as pipe:
            pipe.write(_csv_bytes(ROWS))

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    assert read_csv_data(source=str(channel), batch_size=2).tolist() == ROWS
    writer.join(timeout=10)


def test_mlio_is_preferred_when_importable(tmp_path, monkeypatch):
    # A package that answers to mlio's imports, to see which one read_data picks.
    package = tmp_path / "mlio"
    (package / "integ").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "integ" / "__init__.py").write_text("")
    (package / "integ" / "numpy.py").write_text("def as_numpy(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name.startswith("mlio")}
    try:
        reloaded = importlib.reload(read_data)
        assert reloaded.mlio.__file__ == str(package / "__init__.py")
    finally:
        for name in [n for n in sys.modules if n.startswith("mlio")]:
            del sys.modules[name]
        sys.modules.update(saved)
        monkeypatch.undo()
        importlib.reload(read_data)
    assert read_data.mlio.__name__.endswith("_mlio_compat")


def _csv_bytes(rows) -> bytes:
    return "".join(",".join(_quote(v) for v in row) + "\n" for row in rows).encode()


def _quote(value: str) -> str:
    if any(c in value for c in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
