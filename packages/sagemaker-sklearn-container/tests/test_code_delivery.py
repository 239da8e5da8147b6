"""SAGEMAKER_SUBMIT_DIRECTORY in every form: directory, local tarball, s3:// (moto in-process)."""

from __future__ import annotations

import io
import json
import os
import pwd
import re
import stat
import tarfile

import boto3
import pytest
from moto import mock_aws

from sagemaker_sklearn_container import code_delivery, hooks, serving, training
from sagemaker_sklearn_container.errors import UserError

from conftest import make_tarball, write_script

SCRIPT = "def predict_fn(data, model):\n    return model.predict(data) + 1\n"


def code_root(tmp_path) -> str:
    return str(tmp_path / "runtime" / "code")


def leftovers(root: str) -> list[str]:
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


def tar_with(path: str, *members: tuple[tarfile.TarInfo, bytes | None]) -> str:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "", mode=0o644):
    member = tarfile.TarInfo(name)
    member.type, member.linkname, member.mode = kind, linkname, mode
    return member


# --- local forms ----------------------------------------------------------------


def test_directory_is_used_in_place(tmp_path):
    assert code_delivery.resolve(str(tmp_path)) == str(tmp_path)
    assert code_delivery.resolve("file://" + str(tmp_path)) == str(tmp_path)
    # A directory that does not exist is nothing to fetch: the script lookup reports it.
    assert code_delivery.resolve(str(tmp_path / "later")) == str(tmp_path / "later")


def test_missing_tarball_and_unknown_scheme_are_user_errors(tmp_path):
    with pytest.raises(UserError, match=r"sourcedir\.tar\.gz: no such file"):
        code_delivery.resolve(str(tmp_path / "sourcedir.tar.gz"))
    with pytest.raises(UserError, match="unsupported scheme"):
        code_delivery.resolve("https://example.invalid/code.tar.gz")
    with pytest.raises(UserError, match=r"expected s3://<bucket>/<key"):
        code_delivery.resolve("s3://bucket-only")


def test_local_tarball_is_unpacked_once_by_content(tmp_path):
    tarball = make_tarball(str(tmp_path / "sourcedir.tar.gz"), {"inference.py": SCRIPT})
    first = code_delivery.resolve(tarball)
    assert os.path.dirname(first) == code_root(tmp_path)
    with open(os.path.join(first, "inference.py")) as handle:
        assert handle.read() == SCRIPT
    assert code_delivery.resolve(tarball) == first  # reused, not unpacked again
    assert leftovers(code_root(tmp_path)) == [os.path.basename(first)]  # no temp dirs left
    other = make_tarball(str(tmp_path / "other.tar.gz"), {"inference.py": "X = 2\n"})
    assert code_delivery.resolve(other) != first


def test_losing_the_rename_race_uses_the_winners_copy(tmp_path, monkeypatch):
    tarball = make_tarball(str(tmp_path / "code.tar.gz"), {"inference.py": SCRIPT})
    real_rename = os.rename

    def rename_after_another_process(src, dst):
        os.makedirs(dst)  # another worker finished first
        with open(os.path.join(dst, "winner"), "w"):
            pass
        return real_rename(src, dst)

    monkeypatch.setattr(code_delivery.os, "rename", rename_after_another_process)
    target = code_delivery.resolve(tarball)
    assert os.listdir(target) == ["winner"]
    assert leftovers(code_root(tmp_path)) == [os.path.basename(target)]


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ([(info("../evil.py"), b"x")], "'..' in its path"),
        ([(info("ok/../../evil.py"), b"x")], "'..' in its path"),
        ([(info("/etc/evil.py"), b"x")], "absolute path"),
        ([(info("link", tarfile.SYMTYPE, "/etc/passwd"), None)], "links to an absolute path"),
        ([(info("link", tarfile.SYMTYPE, "../../etc"), None)], "links outside"),
        ([(info("sub/link", tarfile.SYMTYPE, "../.."), None)], "links outside"),
        ([(info("hard", tarfile.LNKTYPE, "../outside"), None)], "links outside"),
        ([(info("dev", tarfile.CHRTYPE), None)], "device, FIFO"),
        ([(info("fifo", tarfile.FIFOTYPE), None)], "device, FIFO"),
        (
            [(info("d", tarfile.SYMTYPE, "."), None), (info("d/x.py"), b"x")],
            "below a symlink",
        ),
        (
            [(info("s", tarfile.SYMTYPE, "."), None), (info("h", tarfile.LNKTYPE, "s"), None)],
            "hard link through a symlink",
        ),
    ],
)
def test_unsafe_members_refuse_the_archive(tmp_path, members, why):
    tarball = tar_with(str(tmp_path / "bad.tar.gz"), (info("inference.py"), b"x"), *members)
    with pytest.raises(UserError, match="refusing to unpack") as raised:
        code_delivery.resolve(tarball)
    assert why in str(raised.value) and "bad.tar.gz" in str(raised.value)
    assert leftovers(code_root(tmp_path)) == []  # nothing half-unpacked


@pytest.mark.parametrize(
    "links",
    [
        # s -> t/.. with t -> u -> . is the tree's parent, though no link is on its own.
        [("s", "t/.."), ("t", "u"), ("u", ".")],
        # The same chain, the links listed in the other order.
        [("u", "."), ("t", "u"), ("s", "t/..")],
        # Through a directory of the archive and a link in it.
        [("s", "d/up/.."), ("d/up", "..")],
        # Through a link to an absolute path (checked before that link itself is).
        [("s", "a/passwd"), ("a", "/etc")],
    ],
)
def test_a_chain_of_links_that_escapes_is_refused_before_extraction(tmp_path, links):
    # Refused by the check on every Python: the 'data' filter of Pythons with the fix for
    # CVE-2025-4517 (3.13.4+, 3.11.13+) would write s normalised (s -> .), which the
    # check after extraction cannot tell from a harmless link.
    tarball = tar_with(
        str(tmp_path / "chain.tar.gz"),
        *((info(name, tarfile.SYMTYPE, target), None) for name, target in links),
    )
    with pytest.raises(UserError, match="outside the code directory") as raised:
        code_delivery.resolve(tarball)
    assert "through other links" in str(raised.value) or "links outside" in str(raised.value)
    assert leftovers(code_root(tmp_path)) == []


def test_a_chain_of_links_that_stays_inside_is_unpacked(tmp_path):
    tarball = tar_with(
        str(tmp_path / "chain.tar.gz"),
        (info("pkg/helper.py"), b"X = 1\n"),
        (info("s", tarfile.SYMTYPE, "t/helper.py"), None),
        (info("t", tarfile.SYMTYPE, "u/pkg"), None),
        (info("u", tarfile.SYMTYPE, "."), None),
        # A loop resolves to nothing (ELOOP), so it escapes nowhere.
        (info("loop", tarfile.SYMTYPE, "loop"), None),
    )
    target = code_delivery.resolve(tarball)
    with open(os.path.join(target, "s")) as handle:
        assert handle.read() == "X = 1\n"
    assert os.readlink(os.path.join(target, "s")) == "t/helper.py"


@pytest.mark.parametrize("content", [b"not a tarball at all", b"\x1f\x8b\x08\x00truncated"])
def test_corrupt_tarball_is_user_error(tmp_path, content):
    path = tmp_path / "sourcedir.tar.gz"
    path.write_bytes(content)
    with pytest.raises(UserError, match=r"cannot unpack .*sourcedir.tar.gz: not a readable tar"):
        code_delivery.resolve(str(path))
    assert leftovers(code_root(tmp_path)) == []


# Python 3.12+ warns that 3.14 will filter by default when extractall gets no filter: what the
# fallback for Pythons without filters does, here on a Python that has them.
@pytest.mark.filterwarnings("ignore:Python 3.14 will, by default, filter:DeprecationWarning")
def test_without_the_data_filter_links_inside_work_and_modes_are_hardened(tmp_path, monkeypatch):
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    tarball = tar_with(
        str(tmp_path / "code.tar.gz"),
        (info("pkg/helper.py", mode=0o6777), b"X = 1\n"),
        (info("alias.py", tarfile.SYMTYPE, "pkg/helper.py"), None),
        (info("copy.py", tarfile.LNKTYPE, "pkg/helper.py"), None),
    )
    target = code_delivery.resolve(tarball)
    mode = os.stat(os.path.join(target, "pkg", "helper.py")).st_mode
    assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_IWGRP | stat.S_IWOTH)
    with open(os.path.join(target, "alias.py")) as handle:
        assert handle.read() == "X = 1\n"
    assert os.path.samefile(os.path.join(target, "copy.py"), os.path.join(target, "pkg/helper.py"))


def test_prepare_exports_the_local_directory_for_the_workers(tmp_path, monkeypatch):
    tarball = make_tarball(str(tmp_path / "code.tar.gz"), {"inference.py": SCRIPT})
    assert code_delivery.prepare_submit_directory() is None  # nothing set
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", tarball)
    me = pwd.getpwuid(os.getuid()).pw_name
    local = code_delivery.prepare_submit_directory(user=me)
    assert os.environ[code_delivery.RESOLVED_ENV] == local
    assert code_delivery.local_submit_directory() == local
    # A different SAGEMAKER_SUBMIT_DIRECTORY is not answered from the stale export.
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", str(tmp_path))
    assert code_delivery.local_submit_directory() == str(tmp_path)


# --- S3 ---------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-3")
        client.create_bucket(
            Bucket="models", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        yield client


def test_s3_tarball_is_downloaded_and_unpacked(s3, tmp_path):
    tarball = make_tarball(str(tmp_path / "sourcedir.tar.gz"), {"inference.py": SCRIPT})
    s3.upload_file(tarball, "models", "job/source/sourcedir.tar.gz")
    local = code_delivery.resolve("s3://models/job/source/sourcedir.tar.gz")
    assert os.listdir(local) == ["inference.py"]
    assert leftovers(code_root(tmp_path)) == [os.path.basename(local)]  # download removed


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("s3://models/missing/sourcedir.tar.gz", "no object 'missing/sourcedir.tar.gz'"),
        ("s3://no-such-bucket/sourcedir.tar.gz", "no"),
    ],
)
def test_s3_missing_object_or_bucket_names_the_uri(s3, tmp_path, uri, why):
    with pytest.raises(UserError, match="cannot download " + re.escape(uri)) as raised:
        code_delivery.resolve(uri)
    assert why in str(raised.value)
    assert leftovers(code_root(tmp_path)) == []


def test_s3_corrupt_object_is_user_error(s3, tmp_path):
    s3.put_object(Bucket="models", Key="bad.tar.gz", Body=b"garbage")
    with pytest.raises(UserError, match=r"cannot unpack s3://models/bad\.tar\.gz"):
        code_delivery.resolve("s3://models/bad.tar.gz")


def test_s3_error_messages_name_the_cause():
    from botocore.exceptions import ClientError, EndpointConnectionError

    class Failing:
        def __init__(self, exc):
            self.exc = exc

        def download_file(self, *args):
            raise self.exc

    def error(code):
        return ClientError({"Error": {"Code": code, "Message": "msg"}}, "GetObject")

    for exc, why in (
        (error("NoSuchBucket"), "no bucket 'b'"),
        (error("403"), "access denied (403)"),
        (error("SlowDown"), "SlowDown: msg"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "EndpointConnectionError"),
    ):
        with pytest.raises(UserError, match=r"cannot download s3://b/k\.tar\.gz") as raised:
            code_delivery.download_s3("s3://b/k.tar.gz", "/nonexistent", client=Failing(exc))
        assert why in str(raised.value)


def test_s3_without_credentials_is_user_error(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    with pytest.raises(UserError, match="no AWS credentials"):
        code_delivery.resolve("s3://models/sourcedir.tar.gz")


def test_s3_client_honours_region_and_endpoint_settings(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert code_delivery.s3_client().meta.region_name == "ap-south-1"
    monkeypatch.setenv("SAGEMAKER_REGION", "sa-east-1")
    assert code_delivery.s3_client().meta.region_name == "sa-east-1"
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert code_delivery.s3_client().meta.region_name == "eu-north-1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4566")
    assert code_delivery.s3_client().meta.endpoint_url == "http://127.0.0.1:4566"
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:4567")
    assert code_delivery.s3_client().meta.endpoint_url == "http://127.0.0.1:4567"


# --- serving and training ---------------------------------------------------------


def test_serving_main_fails_cleanly_on_a_missing_s3_object(s3, base_dir, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "inference.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", "s3://models/nothing/sourcedir.tar.gz")
    assert serving.main() == UserError.exit_code
    with open(os.path.join(base_dir, "output", "failure")) as handle:
        text = handle.read()
    assert text.startswith("UserError: cannot download s3://models/nothing/sourcedir.tar.gz")


def test_hooks_come_from_an_s3_tarball(s3, model_dir, tmp_path, monkeypatch):
    tarball = make_tarball(str(tmp_path / "sourcedir.tar.gz"), {"serve.py": SCRIPT})
    s3.upload_file(tarball, "models", "sourcedir.tar.gz")
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "serve.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", "s3://models/sourcedir.tar.gz")
    code_delivery.prepare_submit_directory()
    handler = hooks.ModelHandler.from_model_dir(model_dir, "application/json")
    body, _ = handler.invoke(b"[[1], [2]]", "application/json", None)
    assert json.loads(body) == pytest.approx([3.0, 5.0])


FIT = """
import os, joblib
from sklearn.dummy import DummyRegressor
joblib.dump(DummyRegressor().fit([[0]], [1]), os.path.join(os.environ["SM_MODEL_DIR"], "m.joblib"))
"""


def test_training_runs_code_from_a_tarball_and_refuses_a_bad_one(base_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "fit.py")
    tarball = make_tarball(str(tmp_path / "sourcedir.tar.gz"), {"fit.py": FIT})
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", tarball)
    training.run_training()
    assert os.path.exists(os.path.join(base_dir, "model", "m.joblib"))

    wrong = make_tarball(str(tmp_path / "wrong.tar.gz"), {"other.py": FIT})
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", wrong)
    with pytest.raises(UserError, match=r"training script fit.py not found in .*wrong.tar.gz"):
        training.run_training()
    evil = tar_with(str(tmp_path / "evil.tar.gz"), (info("../fit.py"), b"x"))
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", evil)
    with pytest.raises(UserError, match="refusing to unpack"):
        training.run_training()


def test_training_warns_when_the_code_dir_already_has_other_code(base_dir, tmp_path, caplog):
    write_script(os.path.join(base_dir, "code"), "fit.py", FIT)
    other = tmp_path / "elsewhere"
    write_script(str(other), "fit.py", FIT)
    os.environ["SAGEMAKER_PROGRAM"] = "fit.py"
    os.environ["SAGEMAKER_SUBMIT_DIRECTORY"] = str(other)
    training.run_training()
    assert "is not empty: sagemaker-training runs fit.py from there" in caplog.text


@pytest.mark.skipif(not hasattr(tarfile, "data_filter"), reason="needs tarfile's data filter")
def test_the_data_filter_backs_up_our_own_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(code_delivery, "check_members", lambda members, source: None)
    tarball = tar_with(
        str(tmp_path / "abs.tar.gz"), (info("passwd", tarfile.SYMTYPE, "/etc/passwd"), None)
    )
    with pytest.raises(UserError, match="refusing to unpack"):
        code_delivery.resolve(tarball)
    assert leftovers(code_root(tmp_path)) == []
