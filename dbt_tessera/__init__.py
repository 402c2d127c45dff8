"""dbt's plugin entry point: dbt-core imports installed ``dbt_*`` modules and reads ``plugins``.

The gate it adds to plain ``dbt run`` / ``build`` / ``seed`` / ``snapshot`` is off unless turned on
(``vars: {tessera: {gate: true}}`` or ``TESSERA_DBT_GATE=1``); see tessera_dbt.plugin.
"""

from tessera_dbt.plugin import TesseraGate

plugins = [TesseraGate]
