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
