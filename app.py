#!/usr/bin/env python3
"""The CDK app of the FIFO messaging system: ``cdk synth`` / ``cdk deploy`` (see cdk.json)."""

from __future__ import annotations

from aws_cdk import App

from infra.system import build_system, cdk_context


def main() -> None:
    """Build the example system and synthesize the cloud assembly."""
    # Same settings as cdk.json, also when the app runs without the CLI (python app.py, the local cloud).
    app = App(analytics_reporting=False, context={**cdk_context(), "aws:cdk:enable-asset-metadata": True})
    build_system(app)
    app.synth()


if __name__ == "__main__":
    main()
