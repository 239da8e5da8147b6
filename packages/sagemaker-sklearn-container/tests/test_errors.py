import os

from sagemaker_sklearn_container import errors


def test_families_have_distinct_exit_codes():
    codes = {
        cls("x").exit_code
        for cls in (errors.UserError, errors.AlgorithmError, errors.PlatformError)
    }
    assert codes == {1, 2, 3}
    assert errors.UserError("x").errno == 2


def test_unknown_exceptions_are_platform_errors():
    error = errors.as_container_error(KeyError("k"))
    assert isinstance(error, errors.PlatformError)
    assert "KeyError" in error.failure_text()
    same = errors.UserError("u")
    assert errors.as_container_error(same) is same


def test_failure_file_keeps_first_failure(base_dir):
    path = errors.write_failure_file(errors.UserError("first"))
    errors.write_failure_file(errors.AlgorithmError("second"))
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == "UserError: first"
    assert path == os.path.join(base_dir, "output", "failure")


def test_failure_file_is_truncated(base_dir):
    path = errors.write_failure_file(errors.PlatformError("x" * 5000))
    assert os.path.getsize(path) == errors.FAILURE_MESSAGE_LIMIT


def test_success_file(base_dir):
    assert os.path.exists(errors.write_success_file())
