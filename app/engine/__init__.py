"""The execution engine: compiled query plans (plans.py), graphql-core's executor with its
leaf shortcut (executor.py), and the two adapters that hold every use of a dependency's
internals (graphql_core_adapter.py, strawberry_adapter.py). It imports graphql-core,
Strawberry and the schema layer only."""
