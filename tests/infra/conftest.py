"""Infra tests drive the jsii runtime on Node 20; silence its end-of-life banner (the Makefile does the same)."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
