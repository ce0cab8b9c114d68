"""Object storage: a local folder by default, S3 (or MinIO) through boto3 in production.

Objects are read by clients only through short-lived signed URLs: S3 presigned GETs, or for the local
store a URL to ``/api/v1/files/<key>`` carrying an expiry and an HMAC of key and expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.\-]{0,500}$")
LOCAL_FILES_PATH = "/api/v1/files/"


class StorageError(Exception):
    """An object could not be stored or read."""


class ObjectNotFound(StorageError):
    """No object under that key."""


def validate_key(key: str) -> str:
    """Refuse keys that could escape the store's root or confuse a URL."""
    if not KEY_PATTERN.match(key) or ".." in key.split("/") or "//" in key:
        raise StorageError(f"invalid object key {key!r}")
    return key


class ObjectStore(Protocol):
    """What the platform needs from an object store."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store bytes under a key (overwriting)."""

    def get(self, key: str) -> bytes:
        """Read an object; raises ObjectNotFound."""

    def delete(self, key: str) -> None:
        """Remove an object if present."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under the key."""

    def signed_url(self, key: str, expires_in: int = 300, filename: str | None = None) -> str:
        """A URL that lets its holder GET the object until it expires."""


def sign_local(secret: str, key: str, expires: int, filename: str = "") -> str:
    """The HMAC that authorises a local download of ``key`` until ``expires`` (unix seconds).

    The download file name is signed too: the holder of the URL cannot make the object download under
    another name (a PDF saved as ``report.html``).
    """
    return hmac.new(secret.encode(), f"{key}\n{expires}\n{filename}".encode(), hashlib.sha256).hexdigest()


def verify_local(secret: str, key: str, expires: str | None, signature: str | None, now: float | None = None,
                 filename: str | None = None) -> bool:
    """Check a local download signature (over key, expiry and file name) and expiry."""
    if not expires or not signature or not expires.isdigit():
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(sign_local(secret, key, int(expires), filename or ""), signature)


def attachment_disposition(filename: str) -> str:
    """The Content-Disposition that downloads an object under ``filename`` (RFC 6266 UTF-8 form)."""
    return f"attachment; filename*=UTF-8''{quote(filename)}"


class LocalStore:
    """Objects as files under a root folder; writes are atomic (temp file + rename)."""

    def __init__(self, root: str | Path, secret: str, url_base: str = "") -> None:
        self.root = Path(root)
        self.secret = secret
        self.url_base = url_base.rstrip("/")

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file atomically so a reader never sees half an object."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, path)

    def get(self, key: str) -> bytes:
        """Read the file."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    def delete(self, key: str) -> None:
        """Remove the file if present."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether the file exists."""
        return self._path(key).is_file()

    def signed_url(self, key: str, expires_in: int = 300, filename: str | None = None) -> str:
        """A URL to the api's file route, valid for ``expires_in`` seconds."""
        expires = int(time.time()) + expires_in
        query = {"expires": expires, "sig": sign_local(self.secret, validate_key(key), expires, filename or "")}
        if filename:
            query["filename"] = filename
        return f"{self.url_base}{LOCAL_FILES_PATH}{quote(key)}?{urlencode(query)}"


class S3Store:
    """Objects in an S3 bucket (AWS, MinIO, or moto_server in tests)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None, access_key: str | None, secret_key: str | None,
                 region: str = "us-east-1", create_bucket: bool = False) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, region_name=region,
            config=Config(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                          retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"}))
        if create_bucket:
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload the bytes (a single PUT is atomic in S3)."""
        self.client.put_object(Bucket=self.bucket, Key=validate_key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        """Download the object."""
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=validate_key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise ObjectNotFound(key) from exc
            raise StorageError(str(exc)) from exc

    def delete(self, key: str) -> None:
        """Delete the object (S3 answers success for a missing key too)."""
        self.client.delete_object(Bucket=self.bucket, Key=validate_key(key))

    def exists(self, key: str) -> bool:
        """HEAD the object."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
            return True
        except ClientError:
            return False

    def signed_url(self, key: str, expires_in: int = 300, filename: str | None = None) -> str:
        """A presigned GET."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": validate_key(key)}
        if filename:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)


def build_store(config: dict[str, Any]) -> ObjectStore:
    """The store the settings name."""
    if config.get("STORAGE_BACKEND") == "s3":
        if not config.get("S3_BUCKET"):
            raise StorageError("STORAGE_BACKEND=s3 needs S3_BUCKET")
        return S3Store(config["S3_BUCKET"], endpoint_url=config.get("S3_ENDPOINT_URL"),
                       access_key=config.get("S3_ACCESS_KEY_ID"), secret_key=config.get("S3_SECRET_ACCESS_KEY"),
                       region=config.get("S3_REGION") or "us-east-1",
                       create_bucket=config.get("APP_ENV") != "production")
    return LocalStore(config["STORAGE_LOCAL_PATH"], config["SECRET_KEY"])
