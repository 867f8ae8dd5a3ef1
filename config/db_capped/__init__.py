"""PostgreSQL backend with a hard per-process cap on open connections (docs/operations.md)."""
