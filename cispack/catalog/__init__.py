"""What the pack is: the CIS v1.2.0 recommendations (titles, levels, scored), the later versions'
catalogues (:mod:`cispack.catalog.versions`), the rules in ``rules/`` and the controls each covers,
the process checks, and the public interface every rule keeps (rule name, resource type,
parameters). Everything else builds on it; it imports nothing of the pack but :mod:`cispack`
(paths)."""
