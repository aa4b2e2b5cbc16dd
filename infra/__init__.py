"""CDK constructs and stacks of the FIFO messaging system.

One construct per concept, secure defaults inside; the stacks in :mod:`infra.stacks` wire the example system.

Example:
    >>> from aws_cdk import App
    >>> from infra.system import build_system
    >>> system = build_system(App())  # doctest: +SKIP
"""
