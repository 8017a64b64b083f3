"""The article page: Datasette's row page of `articles`, drawn by the room's template
(`row-archive-articles.html`) with what a reader wants of the row: paragraphs, photos with their
captions, documents, where it came from, its versions with what changed, and its reposts."""

from __future__ import annotations

import itertools
import json

from archive.room.context import DATABASE, portal_titles, values
from archive.room.diff import word_diff

TEMPLATE = f"row-{DATABASE}-articles.html"


def template_vars(request: object, datasette: object) -> object:
    async def inner() -> dict:
        pks = request.url_vars.get("pks", "")
        try:
            article_id = int(pks)
        except ValueError:  # a compound key cannot name an article
            return {}
        return {**values(request, datasette), "room": await article(datasette, article_id)}

    return inner


async def article(datasette: object, article_id: int) -> dict | None:
    db = datasette.get_database(DATABASE)
    row = (await db.execute("select * from articles where id = ?", [article_id])).first()
    if row is None:
        return None
    row = dict(row)
    tables = set(await db.table_names())
    page = (await db.execute("select fetched_from, captured_at, last_fetched from pages where url = ?",
                             [row["url"]])).first()
    media = []
    if "article_media" in tables:
        media = [dict(m) for m in await db.execute(
            "select position, kind, source_url, sha256, caption, alt from article_media where url = ? "
            "order by position", [row["url"]])]
    photos = [m for m in media if m["kind"] == "image"]
    documents = [m for m in media if m["kind"] != "image"]
    captions = json.loads(row["captions"] or "[]")
    shown = {p["caption"] for p in photos if p["caption"]}
    versions = [dict(v) for v in await db.execute(
        "select version, title, text, fetched_at, captured_at, replaced_at from article_versions where url = ? "
        "order by version", [row["url"]])]
    timeline = [*versions, {"version": row["version"] or 1, "title": row["title"], "text": row["text"],
                            "fetched_at": row["updated_at"] or row["first_seen"], "captured_at": None,
                            "replaced_at": None, "current": True}]
    changes = [{"from": a["version"], "to": b["version"],
                "title": word_diff(a["title"] or "", b["title"] or "") if a["title"] != b["title"] else None,
                "text": word_diff(a["text"] or "", b["text"] or "")}
               for a, b in itertools.pairwise(timeline)]
    reposts = [dict(r) for r in await db.execute(
        "select id, portal, title, published from articles where copy_of = ? order by published", [row["url"]])]
    original = None
    if row["copy_of"]:
        found = (await db.execute("select id, portal, title, published from articles where url = ?",
                                  [row["copy_of"]])).first()
        original = dict(found) if found else {"url": row["copy_of"]}
    portals = await portal_titles(datasette)
    return {
        "article": row, "portal": portals.get(row["portal"], {"name": row["portal"]}),
        "portals": portals, "paragraphs": [p for p in (row["text"] or "").split("\n") if p.strip()],
        "photos": photos, "documents": documents,
        "captions": [c for c in captions if c not in shown],  # those printed under no kept photo
        "page": dict(page) if page else None, "timeline": timeline, "changes": list(reversed(changes)),
        "reposts": reposts, "original": original,
    }
