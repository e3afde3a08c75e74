"""Content domain: news, announcements, their public API and feeds (CAP, RSS, Atom)."""
