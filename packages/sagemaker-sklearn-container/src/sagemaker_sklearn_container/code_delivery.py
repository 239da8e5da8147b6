"""Turning SAGEMAKER_SUBMIT_DIRECTORY into a local directory of user code.

SageMaker and its Python SDK deliver user code in several forms:

* ``s3://bucket/prefix/sourcedir.tar.gz`` - what the SDK sets for every endpoint
  without network isolation (and for training);
* a local ``.tar.gz`` inside the container (e.g. a mounted volume);
* a local directory (``/opt/ml/model/code`` when the SDK repacked the code into
  the model archive, or ``/opt/ml/code``).

Tarballs are unpacked once, into ``<runtime dir>/code/<sha256 of the tarball>``:
first into a temporary directory next to it, then renamed into place, so no
reader (a gunicorn worker, a restarted server) ever sees half a tree, and two
processes racing on the same tarball both end up with the same complete copy.
Every member is checked before anything is written; one unsafe member (a path
outside the target, a link pointing out of it, a device) refuses the archive.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zlib
from urllib.parse import urlparse

from sagemaker_sklearn_container import environment
from sagemaker_sklearn_container.errors import UserError

logger = logging.getLogger(__name__)

# Set by the serving entry point once the code is local, so gunicorn's workers
# (which inherit the environment) reuse it instead of fetching it again.
RESOLVED_ENV = "SAGEMAKER_SKLEARN_LOCAL_SUBMIT_DIRECTORY"
RESOLVED_FROM_ENV = "SAGEMAKER_SKLEARN_LOCAL_SUBMIT_DIRECTORY_FROM"
TARBALL_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")
_CHUNK = 1024 * 1024
# tarfile.FilterError exists only where the 'data' filter does (Python 3.11.4+).
_FILTER_ERRORS = (tarfile.FilterError,) if hasattr(tarfile, "FilterError") else ()


def is_s3_uri(location: str) -> bool:
    return location.startswith("s3://")


def looks_like_tarball(location: str) -> bool:
    return location.lower().endswith(TARBALL_SUFFIXES)


def code_root() -> str:
    return os.path.join(os.path.abspath(environment.runtime_dir()), "code")


# --- S3 -----------------------------------------------------------------------


def s3_client():
    """An S3 client set up the way SageMaker and boto3 expect.

    Region: AWS_REGION (what SageMaker sets), else SAGEMAKER_REGION
    (sagemaker-training's), else boto3's own chain (AWS_DEFAULT_REGION, config
    file). Endpoint: S3_ENDPOINT_URL (sagemaker-training's setting) if set; else
    botocore itself honours AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL.
    Credentials: boto3's standard chain (environment, files, container and
    instance roles).
    """
    import boto3  # imported here: only needed when the code lives in S3

    region = os.environ.get("AWS_REGION") or os.environ.get("SAGEMAKER_REGION") or None
    endpoint_url = os.environ.get("S3_ENDPOINT_URL") or None
    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint_url)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    if parsed.scheme != "s3" or not bucket or not key:
        raise UserError(
            f"SAGEMAKER_SUBMIT_DIRECTORY={uri}: expected s3://<bucket>/<key of a .tar.gz>"
        )
    return bucket, key


def download_s3(uri: str, destination: str, client=None) -> None:
    """Download an S3 object to a local file; a UserError names the URI and the cause."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    bucket, key = parse_s3_uri(uri)
    client = client or s3_client()
    try:
        client.download_file(bucket, key, destination)
    except NoCredentialsError as exc:
        raise UserError(
            f"cannot download {uri}: no AWS credentials found (give the endpoint or job a role, "
            "or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in ("404", "NoSuchKey"):
            why = f"no object {key!r} in bucket {bucket!r}"
        elif code == "NoSuchBucket":
            why = f"no bucket {bucket!r}"
        elif code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            why = f"access denied ({code}): check the role's s3:GetObject permission on it"
        else:
            why = f"{code or 'error'}: {error.get('Message') or exc}"
        raise UserError(f"cannot download {uri}: {why}") from exc
    except (BotoCoreError, OSError) as exc:
        raise UserError(f"cannot download {uri}: {type(exc).__name__}: {exc}") from exc


# --- safe unpacking -----------------------------------------------------------


def _parts(name: str) -> list[str]:
    return [part for part in name.split("/") if part not in ("", ".")]


# As many symlinks as the kernel follows in one lookup before ELOOP.
_MAX_SYMLINK_HOPS = 40


def _escapes(path: str, symlinks: dict[str, str]) -> bool:
    """Whether the relative ``path`` resolves outside the tree once the archive is unpacked,
    following the archive's own symlinks (``symlinks``: name -> link target) as the kernel
    would: ``s -> t/..`` with ``t -> .`` is the tree's parent, though neither link is on its
    own. A loop (the kernel's ELOOP) resolves to nothing and escapes nowhere."""
    pending = _parts(path)
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved:
                return True
            resolved.pop()
            continue
        resolved.append(part)
        link = symlinks.get("/".join(resolved))
        if link is None:
            continue
        link = link.replace("\\", "/")
        if link.startswith("/"):
            return True
        hops += 1
        if hops > _MAX_SYMLINK_HOPS:
            return False
        resolved.pop()  # the link's target is relative to the directory holding it
        pending[:0] = link.split("/")
    return False


def check_members(members: list[tarfile.TarInfo], source: str) -> None:
    """Refuse the whole archive if any member could write or point outside the target.

    Checked without touching the disk: absolute names, ``..`` in names, devices and
    FIFOs, links whose target leaves the tree (also through other links of the archive),
    and members below a symlink (which would be written through the link).
    """

    def refuse(member: tarfile.TarInfo, why: str) -> UserError:
        return UserError(f"refusing to unpack {source}: member {member.name!r} {why}")

    # name -> link target of the archive's symlinks (a later member of the same name wins, as
    # in extraction); what they point to is checked below, link by link and as a chain.
    symlinks = {
        posixpath.join(*_parts(m.name)): m.linkname for m in members if m.issym() and _parts(m.name)
    }
    for member in members:
        name = member.name.replace("\\", "/")
        parts = _parts(name)
        if name.startswith("/") or os.path.isabs(member.name):
            raise refuse(member, "has an absolute path")
        if ".." in parts:
            raise refuse(member, "has '..' in its path (it would land outside the code directory)")
        if not parts:
            continue  # "." or "./": the target directory itself
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise refuse(member, "is a device, FIFO or other special file")
        for depth in range(1, len(parts)):
            if posixpath.join(*parts[:depth]) in symlinks:
                raise refuse(member, "lies below a symlink of the archive")
        if member.issym() or member.islnk():
            link = member.linkname.replace("\\", "/")
            if link.startswith("/") or os.path.isabs(member.linkname):
                raise refuse(member, f"links to an absolute path {member.linkname!r}")
            base = posixpath.dirname(posixpath.join(*parts)) if member.issym() else ""
            resolved = posixpath.normpath(posixpath.join(base, link))
            if resolved == ".." or resolved.startswith("../"):
                raise refuse(member, f"links outside the code directory ({member.linkname!r})")
            if member.issym() and _escapes(posixpath.join(base, link), symlinks):
                # Caught here, before anything is written, on every Python: the 'data' filter
                # of Pythons with the fix for CVE-2025-4517 (3.13.4, 3.12.11, 3.11.13 and
                # later) writes such a link normalised ("t/.." as "."), so _verify_tree would
                # find nothing wrong and the archive would unpack altered.
                raise refuse(
                    member,
                    f"links outside the code directory through other links ({member.linkname!r})",
                )
            if member.islnk() and (resolved in symlinks or ".." in _parts(link)):
                raise refuse(member, f"is a hard link through a symlink ({member.linkname!r})")


def _harden(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """What tarfile's 'data' filter does to metadata, for Pythons without it (< 3.11.4)."""
    member.mode &= ~(stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWGRP | stat.S_IWOTH)
    if member.isfile() or member.islnk():
        member.mode |= stat.S_IRUSR | stat.S_IWUSR
    member.uid, member.gid = os.getuid(), os.getgid()
    member.uname = member.gname = ""
    return member


def _verify_tree(root: str, source: str) -> None:
    """After extraction: every entry's real path stays inside ``root`` (catches link chains)."""
    real_root = os.path.realpath(root)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            real = os.path.realpath(path)
            if real != real_root and not real.startswith(real_root + os.sep):
                raise UserError(
                    f"refusing to unpack {source}: {os.path.relpath(path, root)!r} "
                    "resolves outside the code directory"
                )


def extract_tarball(path: str, target: str, source: str) -> None:
    """Safely unpack ``path`` into the (empty) directory ``target``."""
    try:
        with tarfile.open(path, mode="r:*") as archive:
            members = archive.getmembers()  # reads the whole archive: corruption shows here
            check_members(members, source)
            if hasattr(tarfile, "data_filter"):
                archive.extractall(target, filter="data")
            else:  # Pythons before 3.11.4 (Debian 12 has 3.11.2)
                # Regular files and directories first, links last: nothing is ever
                # written through a link the archive created.
                ordered = sorted(members, key=lambda m: m.issym() or m.islnk())
                archive.extractall(target, members=[_harden(m) for m in ordered])
    except UserError:
        raise
    except _FILTER_ERRORS as exc:
        raise UserError(f"refusing to unpack {source}: {exc}") from exc
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise UserError(
            f"cannot unpack {source}: not a readable tar archive ({type(exc).__name__}: {exc})"
        ) from exc
    _verify_tree(target, source)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unpack_once(tarball: str, source: str, root: str | None = None) -> str:
    """Unpack ``tarball`` into ``<root>/<sha256>`` unless a complete copy is already there."""
    root = root or code_root()
    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, _sha256(tarball))
    if os.path.isdir(target):
        logger.info("code from %s already unpacked in %s", source, target)
        return target
    staging = tempfile.mkdtemp(dir=root, prefix=".unpacking-")
    try:
        extract_tarball(tarball, staging, source)
        os.chmod(staging, 0o755)
        try:
            os.rename(staging, target)  # atomic; fails if another process won the race
        except OSError:
            if not os.path.isdir(target):
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("unpacked code from %s into %s", source, target)
    return target


# --- the entry points -----------------------------------------------------------


def resolve(location: str) -> str:
    """A local directory holding the code at ``location`` (downloading/unpacking as needed)."""
    if location.startswith("file://"):
        location = location[len("file://") :]
    if is_s3_uri(location):
        root = code_root()
        os.makedirs(root, exist_ok=True)
        fd, download = tempfile.mkstemp(dir=root, prefix=".download-", suffix=".tar.gz")
        os.close(fd)
        try:
            download_s3(location, download)
            return unpack_once(download, location, root)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(download)
    if "://" in location:
        raise UserError(
            f"SAGEMAKER_SUBMIT_DIRECTORY={location}: unsupported scheme; use an s3:// URI, "
            "a local directory or a local .tar.gz"
        )
    if os.path.isdir(location):
        return os.path.abspath(location)
    if os.path.isfile(location):
        return unpack_once(os.path.abspath(location), location)
    if looks_like_tarball(location):
        raise UserError(f"SAGEMAKER_SUBMIT_DIRECTORY={location}: no such file")
    # A directory that does not exist (yet): nothing to fetch; the script lookup
    # reports the places it searched if the program is missing.
    return os.path.abspath(location)


def chown_tree(root: str, user: str) -> None:
    """Give the unpacked code to the account the workers run as (they may read or cache there)."""
    import pwd

    account = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.lchown(name, account.pw_uid, account.pw_gid)


def prepare_submit_directory(user: str | None = None) -> str | None:
    """Make SAGEMAKER_SUBMIT_DIRECTORY local once, before any worker starts; export the result."""
    location = environment.submit_directory()
    if not location:
        return None
    local = resolve(location)
    if user and local != os.path.abspath(location) and os.path.isdir(local):
        chown_tree(local, user)
    os.environ[RESOLVED_ENV] = local
    os.environ[RESOLVED_FROM_ENV] = location
    return local


def local_submit_directory() -> str | None:
    """The local directory of SAGEMAKER_SUBMIT_DIRECTORY (resolved now if nobody did yet)."""
    location = environment.submit_directory()
    if not location:
        return None
    resolved = os.environ.get(RESOLVED_ENV)
    if resolved and os.environ.get(RESOLVED_FROM_ENV) == location:
        return resolved
    return resolve(location)
