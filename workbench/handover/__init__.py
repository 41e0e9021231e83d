"""What leaves the provider: the evidence report (`report`) and the indicators (`indicators`).

Both read the case (a campaign's accounts, values, findings and samples, gathered by `data`)
and never import detection. `wb.report(case, campaign)` and `wb.indicators(case, campaign)` are
the notebook-facing names.
"""
