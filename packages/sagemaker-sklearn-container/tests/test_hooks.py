import json
import os
import textwrap

import numpy as np
import pytest

from sagemaker_sklearn_container import hooks
from sagemaker_sklearn_container.errors import AlgorithmError, UserError

from conftest import make_tarball, write_script


def handler_for(model_dir, source=None, program="inference.py", monkeypatch=None):
    if source is not None:
        write_script(os.path.join(model_dir, "code"), program, textwrap.dedent(source))
    return hooks.ModelHandler.from_model_dir(model_dir, "application/json")


def test_defaults_without_script(model_dir):
    handler = handler_for(model_dir)
    assert handler.hooks.source is None
    body, content_type = handler.invoke(b"[[1], [2]]", "application/json", None)
    assert content_type == "application/json"
    assert json.loads(body) == pytest.approx([2.0, 4.0])
    assert handler.execution_parameters() is None


def test_default_model_fn_needs_model_file(tmp_path):
    handler = handler_for(str(tmp_path))
    with pytest.raises(UserError, match=r"model\.joblib"):
        _ = handler.model


def test_model_is_loaded_once(model_dir):
    handler = handler_for(
        model_dir,
        """
        calls = []
        def model_fn(model_dir):
            calls.append(model_dir)
            return "model"
        def predict_fn(data, model):
            return [len(calls)]
        """,
    )
    handler.invoke(b"[1]", "application/json", None)
    body, _ = handler.invoke(b"[1]", "application/json", None)
    assert body == b"[1]"


def test_model_fn_failure_is_algorithm_error(model_dir):
    handler = handler_for(model_dir, "def model_fn(d):\n    raise RuntimeError('corrupt')\n")
    with pytest.raises(AlgorithmError, match="corrupt"):
        _ = handler.model


def test_program_lookup_order(monkeypatch, base_dir, model_dir, tmp_path):
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "serve_me.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", str(tmp_path / "submit"))
    submit = write_script(str(tmp_path / "submit"), "serve_me.py", "")
    assert hooks.find_user_script(model_dir) == submit
    own = write_script(os.path.join(model_dir, "code"), "serve_me.py", "")
    assert hooks.find_user_script(model_dir) == own


def test_program_from_submit_dir_and_code_dir(monkeypatch, base_dir, model_dir, tmp_path):
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "serve_me")  # without .py
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", str(tmp_path / "nothing-here"))
    in_code = write_script(os.path.join(base_dir, "code"), "serve_me.py", "")
    assert hooks.find_user_script(model_dir) == in_code
    tarball = make_tarball(str(tmp_path / "sourcedir.tar.gz"), {"serve_me.py": "X = 1\n"})
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", tarball)
    found = hooks.find_user_script(model_dir)
    assert found.startswith(str(tmp_path / "runtime" / "code")) and found.endswith("serve_me.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", str(tmp_path))
    in_submit = write_script(str(tmp_path), "serve_me.py", "")
    assert hooks.find_user_script(model_dir) == in_submit


def test_missing_program_is_user_error(monkeypatch, model_dir):
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "nowhere.py")
    with pytest.raises(UserError, match=r"nowhere\.py"):
        hooks.find_user_script(model_dir)


def test_broken_script_is_algorithm_error(model_dir):
    with pytest.raises(AlgorithmError, match="ZeroDivisionError"):
        handler_for(model_dir, "1 / 0\n")


@pytest.mark.parametrize("other", ["input_fn", "predict_fn", "output_fn"])
def test_transform_fn_clash_is_user_error(model_dir, other):
    source = f"def transform_fn(m, b, c, a):\n    return b\n\ndef {other}(*args):\n    pass\n"
    with pytest.raises(UserError, match=other):
        handler_for(model_dir, source)


def test_transform_fn(model_dir):
    handler = handler_for(
        model_dir,
        """
        def transform_fn(model, body, content_type, accept):
            return ("seen:" + content_type + ":" + accept, "text/plain")
        """,
    )
    assert handler.invoke(b"x", "text/csv", "*/*") == (
        b"seen:text/csv:application/json",
        "text/plain",
    )
    assert handler.invoke(b"x", None, "application/custom")[0] == b"seen::application/custom"


def test_custom_chain_and_helpers_importable(model_dir):
    write_script(os.path.join(model_dir, "code"), "helper.py", "FACTOR = 10\n")
    handler = handler_for(
        model_dir,
        """
        import json
        import helper
        from sagemaker_sklearn_container import encoders

        def input_fn(body, content_type):
            return encoders.decode(body, content_type) * helper.FACTOR

        def predict_fn(data, model):
            return model.predict(data)

        def output_fn(prediction, accept):
            return json.dumps({"accept": accept, "p": prediction.tolist()})

        def execution_parameters_fn():
            return {"BatchStrategy": "SINGLE_RECORD"}
        """,
    )
    body, content_type = handler.invoke(b"[[1]]", "application/json", "application/weird")
    assert json.loads(body)["accept"] == "application/weird"
    assert json.loads(body)["p"] == pytest.approx([20.0])
    assert content_type == "application/weird"
    assert handler.execution_parameters() == {"BatchStrategy": "SINGLE_RECORD"}


def test_output_of_wrong_type(model_dir):
    handler = handler_for(model_dir, "def output_fn(p, a):\n    return 42\n")
    with pytest.raises(AlgorithmError, match="int"):
        handler.invoke(b"[[1]]", "application/json", None)


def test_same_file_name_in_two_models_stays_separate(tmp_path):
    first = handler_for(str(tmp_path / "a"), "def model_fn(d):\n    return 'a'\n")
    second = handler_for(str(tmp_path / "b"), "def model_fn(d):\n    return 'b'\n")
    assert (first.model, second.model) == ("a", "b")
    assert np.array_equal(hooks.default_input_fn(b"[1]", "application/json"), np.array([1]))
