"""The HTTP edge: app factory, error mapping to problem+json, dependencies, health and home page."""
