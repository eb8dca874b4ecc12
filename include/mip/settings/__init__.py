"""The settings models of ``channels.yaml`` below ``mip.config``: a main channel's ``publish:`` block
(selection, pricing, product types, gates) with its rules and their fixes. Models only, no pandas:
``mip.listings`` holds the vectorised code that applies them."""
