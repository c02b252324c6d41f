"""Remediation on the local AWS: running the pack's own runbooks (the very scripts of their SSM
Automation documents, ``cispack.generate.runbooks``) against moto, with the API calls each makes
recorded for the least-privilege tests, and ``./pack demo --remediate``. What the pack
remediates and how is the catalogue's (:mod:`cispack.catalog.remediations`); the runbooks'
code is ``runbooks/``. May import the catalogue, the generators and the local AWS; never the
command line."""
