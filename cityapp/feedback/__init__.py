"""Citizen feedback (Mängelmelder): categories, reports, moderation, workflow, Open311."""
