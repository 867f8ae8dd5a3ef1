"""Open data: every published tender as OCDS 1.1 releases and records (docs/evaluation.md)."""
