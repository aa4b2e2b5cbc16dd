"""``python -m scaffold NAME``: what ``make service NAME=...`` runs."""

from __future__ import annotations

from scaffold.cli import main

raise SystemExit(main())
