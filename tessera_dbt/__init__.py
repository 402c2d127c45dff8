"""dbt integration: sync, CI check and gated run/build over tessera_core."""
