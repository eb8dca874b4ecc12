"""CSV-to-MIP migration: find the listings a seller once uploaded by CSV that duplicate catalog products
MIP publishes, and delete them through a planned, gated, approved, verified and audited process.

- ``listings_file``: reading the merchant listings report or the seller's flat file (encoding, header, rows);
- ``stage``: each run's listings in ``mip`` and the ``migration_listings`` gate;
- ``catalog`` / ``match``: what the channel publishes, and which listings duplicate it (and why);
- ``plan``: the plan, its gates and its summary (``summary``); nothing is deleted by planning;
- ``approve``: an approval checks the plan against fresh listings (age, changes, gates);
- ``execute``: DELETE feeds, per-SKU outcomes, verification, the verdict; ``audit``: who did what, when.

``python -m mip.migration show PLAN_ID`` prints a plan (``list`` the latest plans).
"""
