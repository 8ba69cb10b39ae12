"""Business logic: keyword-only typed async functions and batch loaders, one module per domain."""
