"""``AWS::ECR::Repository`` (the CDK bootstrap's container asset repository; no images are built locally).

Example::

    Repository().create(ctx)   # create_repository, lifecycle policy, repository policy
"""

from __future__ import annotations

import contextlib
from typing import Any

from localcloud.cloudformation.resources.base import ResourceContext, ResourceType, is_true, text


class Repository(ResourceType):
    replace_on = frozenset({"RepositoryName"})
    name_property = "RepositoryName"

    def create(self, ctx: ResourceContext) -> None:
        props = ctx.props
        name = ctx.physical_name("RepositoryName", limit=256).lower()
        ecr = ctx.client("ecr")
        if ctx.previous is None or ctx.replacing:
            args: dict[str, Any] = {"repositoryName": name}
            if "ImageTagMutability" in props:
                args["imageTagMutability"] = props["ImageTagMutability"]
            scanning = props.get("ImageScanningConfiguration")
            if scanning:
                args["imageScanningConfiguration"] = {"scanOnPush": is_true(scanning.get("ScanOnPush", False))}
            repository = ecr.create_repository(**args)["repository"]
            arn, uri = repository["repositoryArn"], repository["repositoryUri"]
        else:
            arn, uri = ctx.previous.attrs["Arn"], ctx.previous.attrs["RepositoryUri"]
        lifecycle = props.get("LifecyclePolicy", {}).get("LifecyclePolicyText")
        if lifecycle:
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=text(lifecycle))
        if props.get("RepositoryPolicyText"):
            ecr.set_repository_policy(repositoryName=name, policyText=text(props["RepositoryPolicyText"]))
        ctx.set(name, Arn=arn, RepositoryUri=uri)

    def delete(self, ctx: ResourceContext) -> None:
        assert ctx.previous is not None
        ecr = ctx.client("ecr")
        with contextlib.suppress(ecr.exceptions.RepositoryNotFoundException):
            ecr.delete_repository(repositoryName=ctx.previous.physical_id, force=True)
