"""Sensors of the Tessera provider."""
