"""HttpRegistry against a Tessera server on loopback."""
