"""Content domain: districts, news, announcements, media, public API and feeds."""
