"""Stele services: pairing, device auth, manifests (sources, alerts, cache), heartbeats,
commands, votes and device management. Services never commit; views and jobs do."""
