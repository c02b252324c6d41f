"""The pack's CIS scorecard (``./pack report``): compliance read from AWS Config (one account and
region, by conformance pack or by the pack's rule names; or an organisation aggregator) and
turned into one verdict per CIS v1.2.0 recommendation, with a Security Hub-style score, as text,
JSON, CSV, a self-contained HTML page, PDF or an evidence pack. :mod:`~cispack.report.model` decides
the verdicts (pure), :mod:`~cispack.report.sources` reads AWS Config, :mod:`~cispack.report.render`
writes text, JSON and CSV (and reads the JSON back), :mod:`~cispack.report.page` the HTML page,
:mod:`~cispack.report.export` PDF and the evidence pack, :mod:`~cispack.report.links` the console
and documentation links, :mod:`~cispack.report.samples` the made-up organisations,
:mod:`~cispack.report.demo` reads the local demo's results through the local Config seam and
:mod:`cispack.cli.cmd_report` is the thin ``./pack report`` adapter. It may import the catalogue
(:mod:`cispack.catalog`) and the local-AWS seam (:mod:`cispack.local.config`,
:mod:`cispack.local.aws`) only, never the command line.
"""
