"""Hooks of the Tessera provider."""
