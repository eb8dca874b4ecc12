"""Local stand-ins for the outside world MIP talks to (Amazon SP-API, the supplier catalog).

Development and test tooling only: the ``mip`` package never imports ``sandbox``.
"""
