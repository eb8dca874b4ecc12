"""Feeds API 2021-06-30 and JSON_LISTINGS_FEED processing."""
