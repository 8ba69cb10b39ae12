"""Authorizations of medical services: reading (``records``); checking drafts before anything
is written (``drafts``, with ``facts`` and ``recipients``); creating, one or many from a template
(``create``); writing and sending (``sending``); the printable PDF (``pdf``, ``printing``); and
sending again, extending, cancelling, deleting (``changes``)."""
