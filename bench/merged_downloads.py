"""Merged downloads for the side-by-side benchmark: (g) prepare + fetch a merged PDF of the
data set's one-page documents over HTTP, against a bare in-process pypdf merge of the same files,
and (h) downloads running back to back in the background while the list is timed."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator

import httpx
from pypdf import PdfReader, PdfWriter

from bench.dataset import DataSet
from bench.scenarios import PREPARE_DOWNLOAD
from portal.ids import global_id


async def one_download(client: httpx.AsyncClient, url: str, data: DataSet, token: str) -> bytes:
    """Prepare and fetch one merged PDF; answers its bytes."""
    headers = {"Authorization": f"Bearer {token}"}
    ids = [global_id("Document", document_id) for document_id in data.pdf_document_ids]
    prepared = (
        await client.post(
            f"{url}/graphql",
            json={"query": PREPARE_DOWNLOAD, "variables": {"input": {"documentIds": ids}}},
            headers=headers,
        )
    ).json()
    payload = prepared["data"]["prepareDocumentDownload"]
    if payload["url"] is None:
        raise RuntimeError(f"no download prepared: {payload['userErrors']}")
    # The URL names the configured public URL; fetch it from this server.
    path = httpx.URL(payload["url"]).raw_path.decode()
    response = await client.get(f"{url}{path}", headers=headers)
    response.raise_for_status()
    return response.content


def page_count(body: bytes) -> int:
    """Checks the answer is a whole PDF: the client's own work, outside the timed region."""
    return len(PdfReader(io.BytesIO(body)).pages)


def bare_merge(data: DataSet) -> int:
    writer = PdfWriter()
    for key in data.pdf_keys:
        writer.append(PdfReader(io.BytesIO(data.scratch.storage.path_for(key).read_bytes())))
    out = io.BytesIO()
    writer.write(out)
    return len(writer.pages)


async def downloads(
    url: str, data: DataSet, token: str, *, times: int
) -> tuple[list[float], list[float], int]:
    app_ms: list[float] = []
    bare_ms: list[float] = []
    pages = 0
    async with httpx.AsyncClient(timeout=120) as client:
        await one_download(client, url, data, token)
        for _ in range(times):
            began = time.perf_counter()
            body = await one_download(client, url, data, token)
            app_ms.append((time.perf_counter() - began) * 1000)
            pages = page_count(body)
            began = time.perf_counter()
            bare_merge(data)
            bare_ms.append((time.perf_counter() - began) * 1000)
    return app_ms, bare_ms, pages


@contextlib.asynccontextmanager
async def downloading(
    url: str, data: DataSet, token: str, *, workers: int = 2
) -> AsyncIterator[list[int]]:
    """Merged downloads running back to back in ``workers`` clients while the block runs."""
    done = [0]
    stop = asyncio.Event()

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            while not stop.is_set():
                page_count(await one_download(client, url, data, token))
                done[0] += 1

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        yield done
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
