"""How it is served: settings, create_app and its lifespan, the CLI and plain HTTP routes."""
