"""Hardening 4 and 5: a decompression bomb is refused without the server's memory paying for it,
and active content (JavaScript, launch and URI actions, embedded files) never reaches a stored
result or a merged download."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.annotations import Link
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

from portal.ids import global_id
from portal.resolvers.downloads.merge import MergePart, merge_files, stage_parts
from portal.resolvers.ingestion.pdf import active_content
from portal.settings import Settings
from portal.storage import LocalDocumentStorage
from tests.schema.ingestion.conftest import make_pdf, post_upload
from tests.support.graphql import GraphQLClient
from tests.support.world import World

INFLATED_PAGE_BYTES = 60 * 1024 * 1024
PAGES = 6  # 360 MB inflated from a file of a few hundred KB


def bomb() -> bytes:
    """A small PDF whose pages inflate far past the budget: one deflated stream of 60 MB of
    whitespace, drawn by every page."""
    writer = PdfWriter()
    stream = DecodedStreamObject()
    stream.set_data(b" " * INFLATED_PAGE_BYTES)
    reference = writer._add_object(stream.flate_encode())
    for _ in range(PAGES):
        page = writer.add_blank_page(width=612, height=792)
        page[NameObject("/Contents")] = reference
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def active_pdf() -> bytes:
    """A real result carrying every kind of active content a reader would act on."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(1))))
    writer.add_open_action(JavaScript("app.alert('hello from the upload');"))
    writer.add_attachment("payload.exe", b"MZ not really")
    writer.add_annotation(0, Link(rect=(50, 50, 200, 80), url="https://attacker.example/x"))
    # The page launches a program when it opens.
    writer.pages[0][NameObject("/AA")] = DictionaryObject(
        {
            NameObject("/O"): DictionaryObject(
                {
                    NameObject("/S"): NameObject("/Launch"),
                    NameObject("/F"): TextStringObject("calc.exe"),
                }
            )
        }
    )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _input(world: World) -> dict[str, str]:
    return {
        "visitId": global_id("Visit", world.results.alice_injury.id),
        "reportType": "INJURY_ACTIVITY_STATUS_REPORT",
        "name": "Work status",
    }


@pytest.fixture
def storage(settings: Settings) -> LocalDocumentStorage:
    """Where the app stores documents."""
    return LocalDocumentStorage(root=settings.resolved_data_dir / "documents")


def peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.timeout(180)
async def test_a_decompression_bomb_is_refused_outside_the_servers_memory(
    staff_client: GraphQLClient, world: World
) -> None:
    # Given a few-hundred-KB upload that inflates to 360 MB
    data = bomb()
    assert len(data) < 2 * 1024 * 1024
    peak_rss_reset()
    before = peak_rss_kb()

    # When staff post it
    response = await post_upload(staff_client.http, staff_client.token, _input(world), data)

    # Then it is a user error, and the server process never held the inflated pages
    payload = response.body["data"]["postDocument"]
    assert payload["document"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("file", "PDF_TOO_COMPLEX")]
    assert peak_rss_kb() - before < 40 * 1024


async def test_active_content_is_stripped_before_storing_and_never_downloaded(
    staff_client: GraphQLClient, world: World, storage: LocalDocumentStorage, tmp_path: Path
) -> None:
    # Given a result carrying JavaScript, an embedded file, a URI link and a launch action
    data = active_pdf()
    assert active_content(PdfReader(io.BytesIO(data))) == {
        "javascript",
        "embedded files",
        "actions",
    }

    # When staff post it
    response = await post_upload(staff_client.http, staff_client.token, _input(world), data)

    # Then it is accepted, and what is stored has none of it (nor does a merged download)
    document = response.body["data"]["postDocument"]["document"]
    assert document is not None, response.body
    assert document["pageCount"] == 1
    stored = await storage.get(document["sha256"])
    assert active_content(PdfReader(io.BytesIO(stored))) == set()
    staged = await stage_parts(
        storage=storage,
        parts=[
            MergePart(
                document_id=world.results.subscribed.id,
                title="Stripped",
                storage_key=document["sha256"],
                sha256=document["sha256"],
            )
        ],
        folder=tmp_path,
    )
    merge_files(str(tmp_path / "merged.pdf"), staged)
    merged_bytes = (tmp_path / "merged.pdf").read_bytes()
    assert active_content(PdfReader(io.BytesIO(merged_bytes))) == set()
    for marker in (b"/JavaScript", b"/EmbeddedFiles", b"/Launch", b"/URI", b"payload.exe"):
        assert marker not in stored
        assert marker not in merged_bytes
