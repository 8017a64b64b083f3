"""The public archive under abuse (in-process, through datasette.client): no request holds it, no method
writes it, a crowd is refused rather than queued, no snapshot is left behind, no stored field is huge."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from archive import datasette_plugin, guard
from archive.extract import BOUNDS, extract
from archive.serve import build


def get(db: Path, *paths: str, method: str = "get") -> list:
    async def main() -> list:
        ds = build(db)
        await ds.invoke_startup()
        return list(await asyncio.gather(*(getattr(ds.client, method)(path) for path in paths)))

    return asyncio.run(main())


def test_a_query_that_allocates_gigabytes_fails_at_once(crawled: Path) -> None:
    started = time.monotonic()
    (response,) = get(crawled, "/archive.json?sql=select+length(hex(randomblob(400000000)))")
    assert response.status_code == 400 and "too big" in response.text
    assert time.monotonic() - started < 3.0  # refused, not run for seconds past the time limit


def test_snippets_of_a_huge_argument_are_bounded(crawled: Path) -> None:
    sql = "select+length(archive_snippet(hex(randomblob(8000000)),+'a'))+as+n"
    (response,) = get(crawled, f"/archive.json?sql={sql}&_shape=array")
    assert response.status_code == 200 and response.json()[0]["n"] < 2000  # a window of it, not 16 MB


@pytest.mark.parametrize("path", ["/archive/articles", "/archive/search", "/archive", "/archive.db", "/search",
                                  "/charts"])
def test_writing_methods_are_405_not_500(crawled: Path, path: str) -> None:
    (response,) = get(crawled, path, method="post")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"


def test_a_crowd_is_refused_with_503_not_queued(crawled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "MAX_IN_FLIGHT", 2)
    responses = get(crawled, *[f"/archive/articles.json?_search=dang+uy&n={n}" for n in range(12)])
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) >= 2 and 503 in statuses and set(statuses) <= {200, 503}
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"


def test_search_queries_past_the_bounds_are_400(crawled: Path) -> None:
    words = "+".join(["dang"] * 100)
    table, ranked = get(crawled, f"/archive/articles.json?_search={words}", f"/archive/search.json?q={words}")
    assert table.status_code == ranked.status_code == 400 and "too long" in table.text


def test_snapshots_of_servers_gone_are_removed_at_start(crawled: Path) -> None:
    datasette_plugin._SNAPSHOTS.mkdir(exist_ok=True)
    dead = 2**22 + 12345  # above any pid this machine hands out
    stale = datasette_plugin._SNAPSHOTS / f"archive-{dead}-1-2.db"
    stale.write_bytes(b"old snapshot")
    (response,) = get(crawled, "/archive.db")
    assert response.status_code == 200 and not stale.exists()
    mine = list(datasette_plugin._SNAPSHOTS.glob(f"*-{os.getpid()}-*"))
    assert mine  # the one just served, until this server goes
    datasette_plugin.remove_snapshots(os.getpid())  # what `portal-archive serve` does on its way out
    assert not list(datasette_plugin._SNAPSHOTS.glob(f"*-{os.getpid()}-*"))


def test_stored_fields_have_sane_bounds() -> None:
    huge = "Tiêu đề rất dài " * 70_000  # a 1 MB <title> and headline
    page = (f"<html><head><title>{huge}</title></head><body><article><h1>{huge}</h1>"
            + "<p>Đoạn văn bản đủ dài của bài viết để trích xuất, kể lại một hội nghị của thành phố.</p>" * 5
            + f'<p style="text-align:right">{"Tác giả " * 5000}</p></article></body></html>')
    article = extract(page, "https://example.vn/a")
    assert article.paragraphs
    assert len(article.title) <= BOUNDS["title"] and (article.author is None or len(article.author) <= BOUNDS["author"])
    assert all(len(c) <= BOUNDS["caption"] for c in article.captions)
