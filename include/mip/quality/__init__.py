"""Quality gates shared by every pipeline: great-expectations suites stored as JSON, and the runner.

Suites live in ``mip/quality/suites/<name>.json`` and are reviewed like code. ``mip.quality.gate.
run_gate`` validates a data frame against one inside a task (great-expectations core with an
ephemeral context: no data docs, no stores on disk), records the verdict in ``mip.quality_results``
and every failing row in ``mip.rejected_rows``, and returns the passing rows.
"""
