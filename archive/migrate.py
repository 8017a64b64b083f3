"""Upgrades of an archive written by an older release, run in place when it is opened for writing.

Schema 2 keys every article by its address on its portal (the ``base_url`` its profile names), where
schema 1 keyed it by the address it happened to be fetched from: a sample twin on a free port, a
mirror. Each such row moves to its portal address, the fetched address kept as its provenance
(``pages.fetched_from``); two rows that meet there (the same story fetched from two twins) become one
article whose texts are put on one timeline, as ``portal-archive merge`` does.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from archive.db import Archive
from archive.merge import merge_copy

# Every table that names an article by its URL.
URL_TABLES = ("pages", "article_versions", "retries")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def on_portal(url: str, origin: str) -> str:
    """``url`` with its origin replaced by the portal's own."""
    return origin + url[len(_origin(url)):]


def rebase(archive: Archive) -> int:
    """Move every article (and its page, versions and retries) onto its portal's origin; returns how many
    rows moved. Portals with no ``base_url`` on record are left as they are."""
    db = archive.db
    origins = {name: _origin(base) for name, base in db.execute("select name, base_url from portals")
               if base and urlsplit(base).netloc}
    moved = 0
    rows = db.execute("select url, portal from articles order by id").fetchall()
    for url, portal in rows:
        origin = origins.get(portal)
        if origin is None or _origin(url) == origin:
            continue
        target = on_portal(url, origin)
        db.execute("update pages set fetched_from = coalesce(fetched_from, url) where url = ?", [url])
        db.execute("update article_versions set fetched_from = coalesce(fetched_from, url) where url = ?", [url])
        if db.execute("select 1 from articles where url = ?", [target]).fetchone():
            _fold(archive, url, target)
        else:
            for table in ("articles", *URL_TABLES):
                db.execute(f"update or ignore {table} set url = ? where url = ?", [target, url])
            db.execute("delete from retries where url = ?", [url])  # one already waited under the new URL
        db.execute("update articles set copy_of = ? where copy_of = ?", [target, url])
        moved += 1
    for url, portal in db.execute("select url, portal from retries").fetchall():  # failed before it was archived
        origin = origins.get(portal)
        if origin and _origin(url) != origin:
            db.execute("update or ignore retries set url = ? where url = ?", [on_portal(url, origin), url])
            db.execute("delete from retries where url = ?", [url])
    return moved


def _fold(archive: Archive, url: str, target: str) -> None:
    """The article at ``url`` is another copy of the one at ``target``: one article, one timeline."""
    db = archive.db

    def rows(sql: str) -> list[dict]:
        cursor = db.execute(sql, [url])
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    article, page = rows("select * from articles where url = ?")[0], rows("select * from pages where url = ?")
    versions = rows("select * from article_versions where url = ? order by version")
    archive.remove(url)
    merge_copy(archive, {**article, "url": target}, {**page[0], "url": target} if page else {"url": target},
               [{**v, "url": target} for v in versions])
