"""Content business rules, one module per subject. Services never commit."""
