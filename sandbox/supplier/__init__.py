"""A dropshipping supplier's order API (BigBuy's REST API in its shapes) for the demo, tests and benchmarks.

See sandbox/README.md ("The supplier stand-in") for what it follows and where it is simplified.
"""
