"""State for the local demo account: every module here defines ``seed(account)`` and is run by
``./pack demo`` after the moto server starts, before the rules are invoked. Each seeds a
realistic mix of compliant and non-compliant resources for the rules it concerns.
See :class:`cispack.local.demo.DemoAccount` for what ``account`` offers."""
