"""The demo data set: three employers (one a third-party administrator with two clients), their
people, employees, authorizations, visits, result PDFs and support requests.

Everything is derived from ``random.Random(2026)`` and ids are ``uuid5`` of readable names, so the
data is the same on every machine; dates are relative to ``today`` (the last six months), while ids
and numbers do not depend on it. Seeding is idempotent: when the demo accounts already exist the
summary is returned as is, and every insert also skips rows that already exist (ON CONFLICT DO
NOTHING), so two concurrent seeders cannot duplicate anything either.
"""

from portal.seed.demo.facts import STAFF_EMAIL, DemoSummary, demo_id
from portal.seed.demo.seeding import demo_summary, insert_demo_data, seed_demo

__all__ = ["STAFF_EMAIL", "DemoSummary", "demo_id", "demo_summary", "insert_demo_data", "seed_demo"]
