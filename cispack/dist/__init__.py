"""Code distribution: each custom rule's Lambda zip (exactly what ``rdk deploy`` would upload),
the rdklib layer, and their content-addressed names in the code buckets. May import the
catalogue only."""
