"""Subcommands beyond ``test``: every module ``cispack/cli/cmd_<name>.py`` defines
``register(sub)``, which adds its parser(s) to ``sub`` (an argparse subparsers action) with
``set_defaults(func=...)``; ``func(args) -> int`` is the exit code."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from cispack import cli


def register(sub: Any) -> None:
    for info in sorted(pkgutil.iter_modules(cli.__path__), key=lambda i: i.name):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"cispack.cli.{info.name}").register(sub)
