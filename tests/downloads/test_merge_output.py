"""What a merge worker writes: one valid PDF, every page of every part in the order given, one
top-level bookmark per part, starting with the bytes a download sends before the merge."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import Destination

from portal.resolvers.downloads import PDF_PREFIX, MergePool, StagedPart
from portal.resolvers.downloads.merge import EmptyPartError


def _pdf(path: Path, widths: list[int], *, outline: str | None = None) -> Path:
    """A PDF whose pages are told apart by their widths, with an outline of its own if asked."""
    writer = PdfWriter()
    for width in widths:
        writer.add_blank_page(width=width, height=300)
    if outline is not None:
        writer.add_outline_item(title=outline, page_number=0)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


@pytest.fixture
async def pool() -> AsyncIterator[MergePool]:
    merges = MergePool(1)
    yield merges
    merges.shutdown()


async def test_the_merged_pdf_is_valid_with_every_page_in_order_and_one_bookmark_per_part(
    tmp_path: Path, pool: MergePool
) -> None:
    # Given three parts of 2, 1 and 3 pages, the first with an outline of its own
    parts = [
        StagedPart(str(_pdf(tmp_path / "a.pdf", [201, 202], outline="inner")), "A, Ann"),
        StagedPart(str(_pdf(tmp_path / "b.pdf", [203])), "B, Bo"),
        StagedPart(str(_pdf(tmp_path / "c.pdf", [204, 205, 206])), "C, Cy"),
    ]
    output = tmp_path / "merged.pdf"

    # When they are merged in the order C, A, B
    pages = await pool.merge(output, [parts[2], parts[0], parts[1]])

    # Then the file starts as a download announces it and qpdf finds nothing wrong in it
    assert pages == 6
    data = output.read_bytes()
    assert data.startswith(PDF_PREFIX)
    with pikepdf.open(output) as merged:
        assert merged.check_pdf_syntax() == []
        assert merged.get_warnings() == []
    # and a strict reader finds every page, in that order
    reader = PdfReader(output, strict=True)
    widths = [round(float(page.mediabox.width)) for page in reader.pages]
    assert widths == [204, 205, 206, 201, 202, 203]
    # with one top-level bookmark per part at its first page, and none of the parts' own
    outline = reader.outline
    assert all(isinstance(item, Destination) for item in outline)
    assert [item.title for item in outline] == ["C, Cy", "A, Ann", "B, Bo"]  # type: ignore[union-attr]
    assert [reader.get_destination_page_number(item) for item in outline] == [0, 3, 5]  # type: ignore[arg-type]


async def test_a_part_without_pages_fails_the_merge(tmp_path: Path, pool: MergePool) -> None:
    # Given a part that is a well-formed PDF without a page
    empty = tmp_path / "empty.pdf"
    with pikepdf.new() as pdf:
        pdf.save(empty)
    one = _pdf(tmp_path / "one.pdf", [200])
    output = tmp_path / "merged.pdf"

    # When it is merged with another, then the merge fails and writes nothing
    with pytest.raises(EmptyPartError):
        await pool.merge(output, [StagedPart(str(one), "One"), StagedPart(str(empty), "None")])
    assert not output.exists()
