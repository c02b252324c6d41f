"""The embedded local AWS and the demo: the moto server, the thin tested seam for what moto lacks
(``config``: GetComplianceDetailsByConfigRule, evaluation status, conformance packs, aggregator
compliance, recorded failures), AWS Config's events, running a rule's handler as Lambda would, the
builders that create AWS state (trails, log groups, filters, alarms, topics) for both the demo's
seeds and the tests, and ``./pack demo`` itself. May import the catalogue, code distribution and
the generated files; never the command line or the test support."""
