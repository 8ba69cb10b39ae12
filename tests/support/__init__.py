"""Test helpers: the database harness, the small test world and the GraphQL client."""
