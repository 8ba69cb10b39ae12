"""Webhooks: endpoints of an account (``endpoints``) and their delivery log (``deliveries``).

Delivery itself is the worker's (``portal.webhooks.worker``)."""
