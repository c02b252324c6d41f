"""Test support, used only by tests and benchmarks: the rule test case and its data-driven
cases, test-only AWS helpers (paging, recorded failures, Lambda contexts) and the fault-injection
layer behind ``./pack faults``. May import every feature package; no product code imports it."""
