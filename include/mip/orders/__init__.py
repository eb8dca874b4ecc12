"""Order import: normalisation of Orders API pages and orders-report rows into one model, the import
steps (extract, items, gate, load), and the imported intervals that tell the product its gaps."""
