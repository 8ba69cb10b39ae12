"""Merged-PDF downloads: one-time tickets, redemption with a fresh access check, the merge."""

from portal.resolvers.downloads.merge import (
    DocumentIntegrityError,
    MergedPdf,
    MergePart,
    merge_documents,
)
from portal.resolvers.downloads.prepare import (
    DOWNLOAD_PATH,
    DocumentsNotFound,
    PreparedDownload,
    prepare_download,
)
from portal.resolvers.downloads.redeem import (
    AccessCheck,
    DocumentsNoLongerAccessible,
    RedeemedDownload,
    bookmark_title,
    redeem_download,
)
from portal.resolvers.downloads.tickets import (
    ClaimedTicket,
    IssuedTicket,
    TicketRefusal,
    TicketRefused,
    claim_ticket,
    hash_token,
    issue_ticket,
)

__all__ = [
    "DOWNLOAD_PATH",
    "AccessCheck",
    "ClaimedTicket",
    "DocumentIntegrityError",
    "DocumentsNoLongerAccessible",
    "DocumentsNotFound",
    "IssuedTicket",
    "MergePart",
    "MergedPdf",
    "PreparedDownload",
    "RedeemedDownload",
    "TicketRefusal",
    "TicketRefused",
    "bookmark_title",
    "claim_ticket",
    "hash_token",
    "issue_ticket",
    "merge_documents",
    "prepare_download",
    "redeem_download",
]
