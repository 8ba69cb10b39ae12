"""Identity: tokens, principals, passwords and the permission checks."""
