"""One module per pipeline kind; each exposes ``build(topology, channel) -> DAG``."""
