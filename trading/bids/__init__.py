"""Sealed bids (SPECS.md §1): key registry, the opening key ceremony, submission, receipts, storage.

See docs/opening.md. The cryptography is the stand-alone `sbe1` package; this package
adds the platform's side: who may do what, when, and the audit trail.
"""
