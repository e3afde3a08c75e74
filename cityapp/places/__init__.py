"""Places: the municipality's districts (Ortsteile), its area and point → district lookup.

Part of the shared core: every domain may use it; it uses no domain."""
