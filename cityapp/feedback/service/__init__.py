"""Feedback business rules, one module per concern; services never commit."""
