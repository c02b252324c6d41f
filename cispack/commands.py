"""Subcommands beyond ``test``; each feature module registers its own parser here."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Add the feature subcommands to ``sub`` (an argparse subparsers action)."""
    del sub
