"""Data-quality suites as code (DESIGN.md §5), run through Great Expectations 1.x.

One module per concern declares its checks as set-based SQL (`orphans`, `isolation`,
`drift`, `conservation`); `catalog.all_suites()` gathers them; `runner.run_suites` runs
them through a GX file context under `expectations/gx/`, stores every result in
`dq.validation_results` and rebuilds the Data Docs.
"""
