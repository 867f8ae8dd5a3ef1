"""Expert app write services, one module per concept (docs/architecture.md)."""
