"""``make deploy-local``: the real CDK CLI (``cdk bootstrap``, then ``cdk deploy --all``) against a running local cloud.

The app is synthesized once (asset bundled with pip, as for AWS) into ``.localcloud/<port>/cdk.out``, a directory of
its own, so no stale asset of another synthesis is uploaded; bootstrap and deploy then read that assembly. The CLI
runs with ``AWS_ENDPOINT_URL`` pointing at the local cloud, dummy credentials, and everything that would reach the
internet switched off (notices, telemetry, version check, EC2 metadata).

Example::

    python -m localcloud cdk-deploy --port 4566 --stage dev
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from localcloud.cloud import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, DUMMY_CREDENTIALS
from localcloud.errors import LocalCloudError
from localcloud.server import state_dir

CDK = Path("node_modules") / ".bin" / "cdk"


def cdk_environment(endpoint_url: str, region: str = DEFAULT_REGION,
                    base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the CDK CLI needs against a local endpoint, offline."""
    env = {key: value for key, value in (base if base is not None else os.environ).items()
           if key not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")}
    env.update({
        **{k: v for k, v in DUMMY_CREDENTIALS.items() if k != "AWS_SESSION_TOKEN"},
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        # The CDK CLI's AWS SDK warns on every run below Node 22 (a process warning on stderr, twice per deploy).
        "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
    })
    env.pop("AWS_SESSION_TOKEN", None)
    return env


def check_endpoint(endpoint_url: str, region: str = DEFAULT_REGION) -> None:
    """Fail with one line unless a local cloud answers at ``endpoint_url``."""
    sts = boto3.client("sts", endpoint_url=endpoint_url, region_name=region,
                       aws_access_key_id="testing", aws_secret_access_key="testing",  # noqa: S106 - local endpoint
                       config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10))
    try:
        sts.get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise LocalCloudError(f"no local cloud answers at {endpoint_url} ({exc}): start one with make local "
                              "PORT=<port> or python -m localcloud serve --empty --port <port>") from exc


def commands(assembly: Path, *, stage: str | None, account_id: str, region: str) -> list[list[str]]:
    """The CDK CLI calls: synth (bundled, into its own directory), bootstrap, deploy every stack."""
    context = ["-c", f"stage={stage}"] if stage else []
    return [
        [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(assembly), *context],
        [str(CDK), "bootstrap", "--no-notices", "--app", str(assembly), f"aws://{account_id}/{region}"],
        [str(CDK), "deploy", "--no-notices", "--app", str(assembly), "--all", "--require-approval", "never",
         "--progress", "events"],
    ]


def deploy(port: int, *, stage: str | None = None, region: str = DEFAULT_REGION, app_dir: Path | None = None,
           extra_args: Sequence[str] = ()) -> int:
    """Bootstrap and deploy the app into the local cloud on ``port``; the CLI's exit code (0 when all went)."""
    app_dir = (app_dir or Path.cwd()).resolve()
    if not (app_dir / CDK).exists():
        raise LocalCloudError(f"{app_dir / CDK} is missing: run npm ci (make does it)")
    endpoint_url = f"http://localhost:{port}"
    check_endpoint(endpoint_url, region)
    assembly = (app_dir / state_dir(port) / ("cdk.out" if stage is None else f"cdk.out.{stage}")).resolve()
    shutil.rmtree(assembly, ignore_errors=True)
    env = cdk_environment(endpoint_url, region)
    for command in commands(assembly, stage=stage, account_id=DEFAULT_ACCOUNT_ID, region=region):
        completed = subprocess.run([*command, *(extra_args if command[1] == "deploy" else ())],  # noqa: S603
                                   cwd=app_dir, env=env, check=False)
        if completed.returncode != 0:
            return completed.returncode
    return 0
