"""Read-only views computed from what the ledger hands them: agenda, report, verify.

Views never import the ledger: it passes them records, events and settings. They return
typed records and import no renderer (``rectflow._render`` turns the records into text).
"""
