"""Publishing to main channels: selection, pricing, product types, plans, feeds and their submission."""
