"""Where a Lambda function's code comes from, as the deployer finds it.

- :class:`S3Code`: the template's ``Code.S3Bucket`` / ``Code.S3Key`` zip (what ``cdk deploy`` uploaded), downloaded
  and unpacked once per package into a cache directory; ``Code.ZipFile`` inline source is written out as ``index.py``.
- :class:`AssemblyCode`: the asset directory a cloud assembly staged (``aws:asset:path`` metadata, or the asset
  manifest entry of the ``S3Key`` hash), used when a synthesized ``cdk.out`` is deployed directly; anything else
  falls back to S3.

Example::

    code = S3Code(cloud.client, Path(".localcloud/4566/code"))
    code.locate(ctx).directory   # .localcloud/4566/code/<sha256>/ with orders/handler.py, messaging/, ...
"""

from __future__ import annotations

import base64
import hashlib
import io
import tempfile
import threading
import zipfile
from pathlib import Path

from localcloud.cloudformation.resources.base import ClientFactory, FunctionCode, ResourceContext
from localcloud.errors import TemplateError


class S3Code:
    """Function code from the deployment package in S3 (or inline ``ZipFile`` source)."""

    def __init__(self, client: ClientFactory, cache_dir: Path | None = None) -> None:
        self._client = client
        self._cache_dir = cache_dir
        self._lock = threading.Lock()

    @property
    def cache_dir(self) -> Path:
        """Where packages are unpacked (a temporary directory unless given)."""
        if self._cache_dir is None:
            self._cache_dir = Path(tempfile.mkdtemp(prefix="localcloud-code-"))
        self._cache_dir = self._cache_dir.resolve()  # code directories go on sys.path: never relative
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        return self._cache_dir

    def locate(self, ctx: ResourceContext) -> FunctionCode:
        code = ctx.props.get("Code", {})
        if "ZipFile" in code:
            source = str(code["ZipFile"]).encode()
            digest = hashlib.sha256(source).digest()
            directory = self.cache_dir / f"inline-{digest.hex()[:32]}"
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "index.py").write_bytes(source)
            return FunctionCode(directory, base64.b64encode(digest).decode(), len(source))
        if "S3Bucket" not in code or "S3Key" not in code:
            raise TemplateError(f"{ctx.stack.name}/{ctx.logical_id}: Code has neither S3Bucket/S3Key nor ZipFile")
        args = {"Bucket": code["S3Bucket"], "Key": code["S3Key"]}
        if code.get("S3ObjectVersion"):
            args["VersionId"] = code["S3ObjectVersion"]
        s3 = ctx.client("s3")
        try:
            package = s3.get_object(**args)["Body"].read()
        except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket) as exc:
            raise TemplateError(
                f"{ctx.stack.name}/{ctx.logical_id}: the code package s3://{args['Bucket']}/{args['Key']} "
                "does not exist (was the asset published?)"
            ) from exc
        return self.unpack(package)

    def unpack(self, package: bytes) -> FunctionCode:
        """Unpack a deployment package (zip) into the cache, once per distinct package."""
        digest = hashlib.sha256(package).digest()
        directory = self.cache_dir / digest.hex()[:32]
        with self._lock:
            if not directory.is_dir():
                staging = Path(tempfile.mkdtemp(prefix="unpacking-", dir=self.cache_dir))
                try:
                    with zipfile.ZipFile(io.BytesIO(package)) as archive:
                        archive.extractall(staging)
                except zipfile.BadZipFile as exc:
                    raise TemplateError(f"the code package is not a zip file: {exc}") from exc
                staging.rename(directory)
        return FunctionCode(directory, base64.b64encode(digest).decode(), len(package))


class AssemblyCode:
    """Function code from a cloud assembly's staged assets (falls back to :class:`S3Code`)."""

    def __init__(self, assembly_dir: Path, asset_paths: dict[str, Path], fallback: S3Code) -> None:
        self._assembly_dir = assembly_dir
        self._asset_paths = asset_paths
        self._fallback = fallback

    def locate(self, ctx: ResourceContext) -> FunctionCode:
        asset_path = ctx.resource.get("Metadata", {}).get("aws:asset:path")
        if asset_path:
            path = Path(asset_path)
            return FunctionCode(path if path.is_absolute() else self._assembly_dir / path)
        key = ctx.props.get("Code", {}).get("S3Key")
        if key:
            asset_hash = str(key).rsplit("/", 1)[-1].split(".", 1)[0]
            if asset_hash in self._asset_paths:
                return FunctionCode(self._asset_paths[asset_hash])
        return self._fallback.locate(ctx)
