"""Who may use the service: users with a role and a scope, their passwords and API tokens."""
