"""Operators of the Tessera provider."""
