"""Webhook delivery: SSRF-safe addresses, Standard Webhooks signing, the sender and the worker."""
