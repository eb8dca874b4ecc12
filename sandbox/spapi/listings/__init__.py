"""Listings per (seller, marketplace, SKU): validation, ASIN assignment, status, rendering, storage."""
