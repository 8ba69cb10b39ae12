"""Self-hosted web UI (GraphiQL) served by the API."""
