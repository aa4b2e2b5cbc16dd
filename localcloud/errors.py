"""Errors of the local cloud."""

from __future__ import annotations


class LocalCloudError(Exception):
    """Base class of every local-cloud error."""


class TemplateError(LocalCloudError):
    """A template cannot be deployed (bad reference, unsupported intrinsic, missing export)."""


class UnsupportedResourceError(TemplateError):
    """A resource type that is neither emulated nor listed in ``localcloud.cloudformation.deployer.NOT_EMULATED``."""


class AssemblyError(LocalCloudError):
    """The cloud assembly directory is missing or malformed, or synthesis failed."""


class StackValidationError(TemplateError):
    """A stack request CloudFormation refuses before touching resources (its ``ValidationError``): a malformed
    template, a missing parameter, a failed rule, an export still imported by another stack."""


class StackNotFoundError(LocalCloudError):
    """No stack of that name (or id) is deployed."""
