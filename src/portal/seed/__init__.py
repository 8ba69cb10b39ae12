"""Seed data: the production reference catalogs and the demo data set."""
