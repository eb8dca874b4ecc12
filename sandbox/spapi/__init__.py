"""A stateful stand-in for the Amazon Selling Partner API (``python -m sandbox.spapi``).

Faithful to the official models copied in ``sandbox/amazon_models``: routes, parameters, usage
plans, response shapes and Amazon's static examples come from them. See ``app.py`` for the request
pipeline and the README for the admin API, faults and time scale.
"""
