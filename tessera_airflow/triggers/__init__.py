"""Triggers of the Tessera provider."""
