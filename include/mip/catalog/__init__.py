"""The supplier catalog: reading a catalog drop (files), validating it and loading ``mip.supplier_products``.

``mip.catalog.ingest.ingest_directory`` is the entry point (the ``mip_catalog_sync`` DAG and
``python -m mip.catalog`` call it). The format is described in ``mip.catalog.supplier_format``, the
rules a row can break in ``mip.catalog.rejections.RULES``. pandas is imported by the modules that
need it, never by this package's ``__init__``.
"""
