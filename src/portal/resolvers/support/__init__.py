"""Support requests: opening them, their conversation, their status machine, the privacy path,
and reading them through one visibility rule."""

from portal.resolvers.support.records import (
    CommentRecord,
    Person,
    StatusChangeRecord,
    SupportRequestFilter,
    load_comments,
    load_history,
    load_requests_by_document,
    load_requests_by_visit,
    load_staff_names,
    load_support_requests,
    load_user_names,
    search_support_requests,
    sees_internal_notes,
    visible_requests_condition,
)
from portal.resolvers.support.requests import (
    NewSupportRequest,
    ResultsNotYetDue,
    add_comment,
    create_support_request,
    retract_requested_document,
)
from portal.resolvers.support.workflow import (
    REOPEN_WINDOW,
    allowed_next_statuses,
    assign,
    change_status,
)

__all__ = [
    "REOPEN_WINDOW",
    "CommentRecord",
    "NewSupportRequest",
    "Person",
    "ResultsNotYetDue",
    "StatusChangeRecord",
    "SupportRequestFilter",
    "add_comment",
    "allowed_next_statuses",
    "assign",
    "change_status",
    "create_support_request",
    "load_comments",
    "load_history",
    "load_requests_by_document",
    "load_requests_by_visit",
    "load_staff_names",
    "load_support_requests",
    "load_user_names",
    "retract_requested_document",
    "search_support_requests",
    "sees_internal_notes",
    "visible_requests_condition",
]
