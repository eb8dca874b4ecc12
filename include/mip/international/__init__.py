"""International Listing verification: did Amazon's Build International Listings copy the main channel's
accepted offers into an International Listing marketplace, and at which prices?

``report`` reads the marketplace's merchant listings report, ``compare`` decides per SKU (present,
missing with the likely cause) and the run's verdict, ``summary`` writes the readable summary (with
the price comparison), ``settings`` resolves the run's settings and exchange rate, ``store`` keeps
``mip.international_runs`` and ``mip.international_offers``. Nothing here publishes anything.
"""
