"""The write side of visits and documents (staff ingestion): visits and their statuses, PDF
uploads checked with pypdf, retraction and restore, bulk import and archiving to cold storage."""

from portal.resolvers.ingestion.documents import (
    AlreadyPosted,
    post_document,
    restore_document,
    retract_document,
)
from portal.resolvers.ingestion.isolation import validate_pdf
from portal.resolvers.ingestion.pdf import CheckedPdf, PdfFacts, UploadRejected, inspect_pdf
from portal.resolvers.ingestion.visits import (
    EmployeeReference,
    find_employee_id,
    record_visit,
    update_visit_status,
)

__all__ = [
    "AlreadyPosted",
    "CheckedPdf",
    "EmployeeReference",
    "PdfFacts",
    "UploadRejected",
    "find_employee_id",
    "inspect_pdf",
    "post_document",
    "record_visit",
    "restore_document",
    "retract_document",
    "update_visit_status",
    "validate_pdf",
]
