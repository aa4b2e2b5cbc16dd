"""Per-invocation environment variables: ``os.environ`` becomes a view that consults a context-local overlay first.

Several functions run in one process, in threads; each invocation must see its own function's variables through
``os.environ`` / ``os.getenv`` (which is how Lambda code and boto3 read them). :func:`install` replaces
``os.environ`` by an :class:`OverlayEnviron`; :func:`overlay` activates a function's variables in the current
thread (a :class:`contextvars.ContextVar`, so other threads keep theirs)::

    install()
    with overlay({"TABLE_NAME": "orders"}):
        assert os.getenv("TABLE_NAME") == "orders"
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

_OVERLAY: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "localcloud_environ_overlay", default=None
)


class OverlayEnviron(MutableMapping[str, str]):
    """``os.environ`` replacement: the active overlay first (``None`` hides a variable), then the process env.

    Writes while an overlay is active stay in the overlay (the invocation's own environment).
    """

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self._base = base

    @property
    def base(self) -> MutableMapping[str, str]:
        """The process environment underneath."""
        return self._base

    def __getitem__(self, key: str) -> str:
        layer = _OVERLAY.get()
        if layer is not None and key in layer:
            value = layer[key]
            if value is None:
                raise KeyError(key)
            return value
        return self._base[key]

    def __setitem__(self, key: str, value: str) -> None:
        layer = _OVERLAY.get()
        if layer is not None:
            layer[key] = value
        else:
            self._base[key] = value

    def __delitem__(self, key: str) -> None:
        layer = _OVERLAY.get()
        if layer is not None:
            if key not in self:
                raise KeyError(key)
            layer[key] = None
        else:
            del self._base[key]

    def _merged(self) -> dict[str, str]:
        merged = dict(self._base)
        for key, value in (_OVERLAY.get() or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())

    def copy(self) -> dict[str, str]:
        """A plain dict of what the current thread sees (as ``os.environ.copy()``)."""
        return self._merged()

    def __repr__(self) -> str:
        return f"OverlayEnviron({self._merged()!r})"


def install() -> OverlayEnviron:
    """Replace ``os.environ`` by an :class:`OverlayEnviron` (idempotent)."""
    if not isinstance(os.environ, OverlayEnviron):
        os.environ = OverlayEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003 - a view, not a copy
    environ = os.environ
    assert isinstance(environ, OverlayEnviron)
    return environ


@contextmanager
def overlay(variables: Mapping[str, str | None]) -> Iterator[None]:
    """Make ``variables`` the current context's environment overlay (``None`` hides a process variable)."""
    install()
    token = _OVERLAY.set(dict(variables))
    try:
        yield
    finally:
        _OVERLAY.reset(token)
