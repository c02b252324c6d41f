"""Files generated from ``rules/``: the conformance pack (``conformance-pack.yaml``), the control
table in ``README.md``, the later CIS versions' packs (``conformance-packs/cis-<version>.yaml``) and
their tables in ``README.md`` and ``docs/versions.md``, the organisation member template
(``templates/member.yaml``), the rdk path's execution role (``templates/rdk-role.yaml``), the
one-account remediation template (``templates/remediation.yaml``) and the rdk ``Remediation``
block of each remediated rule's ``parameters.json``.
Owns how each rule becomes a CloudFormation / conformance-pack resource. May import the catalogue
(:mod:`cispack.catalog`) and code distribution (:mod:`cispack.dist`, for the names of the code
objects the member template points at); never the command line."""

from __future__ import annotations

from pathlib import Path


def generated_files(rules_dir: Path | None = None) -> dict[Path, str]:
    """Every generated file and the text it must hold, from ``rules_dir`` (default ``rules/``)."""
    from cispack.catalog.rules import load_rules
    from cispack.generate import conformance, member_template, rdk_role, runbooks, versions

    rules = load_rules(rules_dir) if rules_dir else load_rules()
    every = load_rules(rules_dir, every_folder=True)
    files = conformance.generated_files(rules)
    # The later versions' packs and tables (README.md gets its second generated section).
    files.update(versions.generated_files(rules_dir, files))
    files[member_template.MEMBER_TEMPLATE] = member_template.render(member_template.generate(rules, every))
    files[rdk_role.RDK_ROLE_TEMPLATE] = rdk_role.render(rdk_role.generate(every))
    files[runbooks.SETUP_TEMPLATE] = runbooks.render_setup_template()
    files.update(runbooks.rdk_files(rules))
    files.update(runbooks.documentation())
    return files


def stale_files(rules_dir: Path | None = None) -> list[Path]:
    """The generated files whose committed copy is missing or differs from what ``rules/`` gives."""
    return [
        path
        for path, text in generated_files(rules_dir).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
