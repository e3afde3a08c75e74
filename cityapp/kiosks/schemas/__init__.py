"""Marshmallow schemas of the stele device API and the staff device API."""
