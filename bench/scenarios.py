"""The side-by-side benchmark's requests: the GraphQL documents both servers answer.

The raw endpoint (``bench.raw_app``) recognises them by their exact text."""

from __future__ import annotations

QUERIES = {
    # (a) as a User Admin, (b) as a Basic user, (h) while downloads run
    "list": (
        "{ documents(first: 50) { totalCount edges { cursor node { id name postedAt pageCount "
        "reportType { code name category } employee { id firstName lastName dateOfBirth } "
        "visit { id visitType claimNumber status } medicalCenter { id name state } "
        "location { id name state } } } } }"
    ),
    # (c)
    "one": (
        "query One($id: ID!) { node(id: $id) { ... on Document { id name postedAt pageCount "
        "reportType { code name category } employee { id firstName lastName dateOfBirth } "
        "visit { id visitType claimNumber status } medicalCenter { id name state } "
        "location { id name state } } } }"
    ),
    # (d)
    "search": (
        '{ documents(first: 50, filter: { employeeName: "smi" }) { totalCount '
        "edges { node { id name employee { firstName lastName } } } } }"
    ),
    # (e)
    "viewer": "{ viewer { email } }",
}

PREPARE_DOWNLOAD = (
    "mutation Prepare($input: PrepareDocumentDownloadInput!) { prepareDocumentDownload("
    "input: $input) { url documentCount userErrors { code message } } }"
)

# (f) One new authorization per request: the wrk script (bench/wrk/create.lua) replaces
# CREATE_KEY_PLACEHOLDER with a key of its own per request, so none is a replay.
CREATE_KEY_PLACEHOLDER = "__BENCH_IDEMPOTENCY_KEY__"
QUERIES["create"] = (
    "mutation Create($input: CreateAuthorizationInput!) { createAuthorization(input: $input) { "
    "authorization { id number status modality validFrom validUntil sentAt "
    "employee { id firstName lastName } services { code } medicalCenter { name } } "
    "userErrors { field code message } } }"
)

# PostGraphile v5's own schema shape for (a) and (c) (its "amber" preset over the same tables):
# the same documents and nested objects, the medical center reached through the visit, and the
# document's uuid (rowId) asked for so the answers can be compared with the app's.
_PEER_DOCUMENT = (
    "id rowId name postedAt pageCount reportTypeByReportTypeId { code name category } "
    "employeeByEmployeeId { id firstName lastName dateOfBirth } "
    "visitByVisitId { id visitType claimNumber status medicalCenterByMedicalCenterId { id name "
    "state } } locationByLocationId { id name state }"
)
PEER_QUERIES = {
    "list": (
        "{ allDocuments(first: 50, orderBy: [POSTED_AT_DESC, PRIMARY_KEY_DESC]) { totalCount "
        f"edges {{ cursor node {{ {_PEER_DOCUMENT} }} }} }} }}"
    ),
    "one": f"query One($id: UUID!) {{ documentByRowId(rowId: $id) {{ {_PEER_DOCUMENT} }} }}",
}
PEER_READY = "{ __typename }"
