"""Auth domain: staff accounts and roles, API tokens, app installations, audit log."""
