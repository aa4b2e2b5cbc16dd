"""A Lambda handler that runs another with a fixed latency per message: the work of a handler, for the scale-out
cells of :mod:`benchmarks.scaleout`.

The function's environment names the handler it wraps (``BENCH_WRAPPED_HANDLER``, ``module.function`` as in a
template's ``Handler``) and the latency (``BENCH_LATENCY_MS`` per record of a batch). The wrapped module is imported
as this function's own instance, with this function's environment, as the local cloud imports a handler.

Example (a template's function)::

    "Handler": "benchmarks.latency.lambda_handler",
    "Environment": {"Variables": {"BENCH_WRAPPED_HANDLER": "billing.handler.lambda_handler",
                                  "BENCH_LATENCY_MS": "50"}}
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Callable
from typing import Any

WRAPPED_VARIABLE = "BENCH_WRAPPED_HANDLER"
LATENCY_VARIABLE = "BENCH_LATENCY_MS"


def load_handler(name: str) -> Callable[[Any, Any], Any]:
    """A fresh instance of the module of ``name`` (``package.module.function``), and its function."""
    module_name, _, attribute = name.rpartition(".")
    found = importlib.util.find_spec(module_name)
    if found is None or found.origin is None:
        raise ImportError(f"no module {module_name} for the handler {name}")
    spec = importlib.util.spec_from_file_location(f"bench_latency_{module_name.replace('.', '_')}", found.origin)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {found.origin}")
    module = importlib.util.module_from_spec(spec)
    module.__package__ = module_name.rpartition(".")[0]
    spec.loader.exec_module(module)
    handler: Callable[[Any, Any], Any] = getattr(module, attribute)
    return handler


# Loaded at import, as a handler's module is (the bench imports this module for its names alone).
_wrapped = load_handler(os.environ[WRAPPED_VARIABLE]) if WRAPPED_VARIABLE in os.environ else None
_latency_s = float(os.environ.get(LATENCY_VARIABLE, "0")) / 1000


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    """Wait the latency of every record of the batch, then run the wrapped handler on it."""
    if _wrapped is None:
        raise RuntimeError(f"{WRAPPED_VARIABLE} names no handler in this function's environment")
    time.sleep(_latency_s * len(event.get("Records", [])))
    return _wrapped(event, context)
