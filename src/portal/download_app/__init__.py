"""GET /downloads/{token}: a presigned, single-use download URL (a merged PDF).

The unguessable token in the URL is the credential, so a plain link, ``<a href>`` or a new tab can
open it: no bearer header is needed. It is bound at preparation to the preparer and their sign-in
session; at redemption that session must still be live, the preparer active, and access to every
object is checked again. A bearer header, when one is sent, must name the preparer.

The ticket is spent only once the PDF has been delivered: a redemption that fails or is cut off
(a dropped client, a killed process) leaves it usable. The merge runs in a worker process
(``MergePool``), and the first bytes of the PDF are sent before it starts. Every refusal is
audited and answers JSON with ``errors[].extensions.code``, like the GraphQL endpoint."""

from portal.download_app.endpoint import DownloadEndpoint
from portal.download_app.refusals import Refusal, attachment_name, error_response

__all__ = ["DownloadEndpoint", "Refusal", "attachment_name", "error_response"]
