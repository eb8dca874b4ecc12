"""Orders v0: generation with scheduled status changes, the API, rendering."""
