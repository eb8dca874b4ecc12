"""Reports API 2021-06-30: merchant listings and flat-file orders reports."""
