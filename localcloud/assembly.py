"""Reading a synthesized cloud assembly (``cdk.out``): stacks in deployment order, templates and code assets.

Example::

    assembly = CloudAssembly.load(Path("cdk.out"))
    for stack in assembly.stacks:          # dependencies first
        print(stack.name, len(stack.template["Resources"]))
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.errors import AssemblyError

STACK_ARTIFACT = "aws:cloudformation:stack"


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly."""

    artifact_id: str
    name: str
    template: dict[str, Any]
    dependencies: tuple[str, ...]
    asset_paths: dict[str, Path]
    """Asset hash -> staged asset directory (from the stack's asset manifest)."""
    template_body: str = ""
    """The template file's text, as ``cdk deploy`` would upload it."""


@dataclass(frozen=True)
class CloudAssembly:
    """The stacks of a cloud assembly directory, in deployment order."""

    directory: Path
    stacks: tuple[StackArtifact, ...]

    @classmethod
    def load(cls, directory: Path) -> CloudAssembly:
        manifest_file = directory / "manifest.json"
        if not manifest_file.is_file():
            raise AssemblyError(f"{directory} is not a cloud assembly (no manifest.json)")
        manifest = json.loads(manifest_file.read_text())
        artifacts: dict[str, Any] = manifest.get("artifacts", {})
        stacks: dict[str, StackArtifact] = {}
        for artifact_id, artifact in artifacts.items():
            if artifact.get("type") == "cdk:cloud-assembly":
                nested = cls.load(directory / artifact["properties"]["directoryName"])
                stacks.update({s.artifact_id: s for s in nested.stacks})
                continue
            if artifact.get("type") != STACK_ARTIFACT:
                continue
            props = artifact.get("properties", {})
            template_body = (directory / props["templateFile"]).read_text(encoding="utf-8")
            template = json.loads(template_body)
            asset_paths: dict[str, Path] = {}
            for dep in artifact.get("dependencies", []):
                dep_artifact = artifacts.get(dep, {})
                if dep_artifact.get("type") == "cdk:asset-manifest":
                    asset_manifest = json.loads((directory / dep_artifact["properties"]["file"]).read_text())
                    for asset_hash, asset in asset_manifest.get("files", {}).items():
                        asset_paths[asset_hash] = directory / asset["source"]["path"]
            stacks[artifact_id] = StackArtifact(
                artifact_id=artifact_id,
                name=props.get("stackName", artifact_id),
                template=template,
                dependencies=tuple(d for d in artifact.get("dependencies", []) if artifacts.get(d, {}).get("type")
                                   in (STACK_ARTIFACT, None) or d in stacks),
                asset_paths=asset_paths,
                template_body=template_body,
            )
        return cls(directory=directory, stacks=tuple(_deployment_order(stacks)))

    def stack(self, name: str) -> StackArtifact:
        for stack in self.stacks:
            if name in (stack.name, stack.artifact_id):
                return stack
        raise AssemblyError(f"no stack {name!r} in {self.directory}")


def _deployment_order(stacks: dict[str, StackArtifact]) -> list[StackArtifact]:
    ordered: list[StackArtifact] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(artifact_id: str) -> None:
        if artifact_id in done or artifact_id not in stacks:
            return
        if artifact_id in visiting:
            raise AssemblyError(f"stack dependency cycle through {artifact_id}")
        visiting.add(artifact_id)
        for dep in stacks[artifact_id].dependencies:
            visit(dep)
        visiting.discard(artifact_id)
        done.add(artifact_id)
        ordered.append(stacks[artifact_id])

    for artifact_id in stacks:
        visit(artifact_id)
    return ordered
