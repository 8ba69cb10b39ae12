"""Authorizations of medical services: reading (``records``), creating and sending
(``create``, ``sending``, ``pdf``), changing (``changes``) and many at once (``bulk``)."""
