"""Content domain: districts (Ortsteile) now; news, announcements and media follow."""
