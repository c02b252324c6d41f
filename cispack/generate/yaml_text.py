"""CloudFormation templates as YAML text: block style for multi-line strings (the embedded
conformance pack, the runbooks' scripts), no aliases, keys in the order they were built."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # PyYAML ships no types here
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> Any:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump(document: Any) -> str:
    text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=False)
    return text
