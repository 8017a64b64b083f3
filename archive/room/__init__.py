"""The reading room: the archive as people read it, on top of Datasette (the plugin `portal_archive_room`).

Datasette stays the engine: its tables, SQL, facets and JSON/CSV API are all still there under
`/archive`. On top of it, in Vietnamese first and English:

- `/`: the portals, the latest articles and a search box (archive.room.pages);
- `/search`: one box, results as cards, facets by portal and year (archive.room.pages);
- `/charts`: articles per month overall and per portal with its retirement marked, crawl health run
  by run, drawn by Vega-Lite from scripts the archive serves itself (archive.room.charts);
- `/archive/articles/<id>`: the article page, Datasette's row page with the room's template and the
  article's photos, documents, versions and reposts (archive.room.article);
- `/-/page/<id>` and `/-/media/<sha256>`: the page as fetched, sandboxed, and the kept photos and
  documents (archive.room.files); `/robots.txt` keeps robots off unless the operator allows them.

Each hook here only hands over to the module that does the work.
"""

from __future__ import annotations

from datasette import hookimpl

from archive.room import article, files, pages
from archive.room.i18n import COOKIE, LANGUAGES
from archive.search import highlighted


@hookimpl
def register_routes() -> list:
    return [
        (r"^/$", pages.home),
        (r"^/search$", pages.search),
        (r"^/charts$", pages.charts),
        (r"^/-/page/(?P<id>\d+)$", files.archived_page),
        (r"^/-/media/(?P<sha256>[0-9a-f]{64})$", files.media),
        (r"^/robots\.txt$", files.robots),
    ]


@hookimpl
def extra_template_vars(template: str, request: object, datasette: object) -> object:
    if template == article.TEMPLATE and request is not None:
        return article.template_vars(request, datasette)
    return None


@hookimpl
def asgi_wrapper() -> object:
    """A `?lang=` choice is remembered in a cookie, on every page (Datasette's row page included)."""

    def wrap(app: object) -> object:
        async def remembered(scope: dict, receive: object, send: object) -> None:
            query = scope.get("query_string", b"").decode("latin-1") if scope.get("type") == "http" else ""
            chosen = next((lang for lang in LANGUAGES if f"lang={lang}" in query.split("&")), None)
            if not chosen:
                await app(scope, receive, send)
                return

            async def sending(message: dict) -> None:
                if message["type"] == "http.response.start":
                    cookie = f"{COOKIE}={chosen}; Path=/; Max-Age=31536000; SameSite=Lax".encode()
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
                await send(message)

            await app(scope, receive, sending)

        return remembered

    return wrap


@hookimpl
def prepare_jinja2_environment(env: object) -> None:
    env.filters["snippet_html"] = highlighted
