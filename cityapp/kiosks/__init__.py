"""Steles (kiosks) domain: pairing, device auth, manifests, heartbeats, commands, fleet health."""
