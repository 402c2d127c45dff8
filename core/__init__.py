"""Tessera integration core."""
