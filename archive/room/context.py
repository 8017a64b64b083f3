"""What every reading-room page is drawn with: the reader's language and words, the portals' names, and
whether robots may index the archive."""

from __future__ import annotations

from urllib.parse import urlencode

from datasette.utils.asgi import Response

from archive.room.i18n import Words, language

DATABASE = "archive"
PLUGIN = "portal_archive_room"  # its settings: allow_robots
STATIC = "portal_archive"  # Datasette serves a plugin's static files under its distribution's name


def words(request: object) -> Words:
    args = {key: request.args.get(key) for key in ("lang",)}
    return Words(language(args, request.cookies, request.headers.get("accept-language", "")))


def robots_allowed(datasette: object) -> bool:
    return bool((datasette.plugin_config(PLUGIN) or {}).get("allow_robots"))


async def portal_titles(datasette: object) -> dict[str, dict]:
    """Each portal's row (title, base_url, retired), by name."""
    db = datasette.get_database(DATABASE)
    if "portals" not in await db.table_names():
        return {}
    rows = await db.execute("select name, title, base_url, retired from portals order by name")
    return {row["name"]: dict(row) for row in rows}


def switch_url(request: object, lang: str) -> str:
    """This page in the other language."""
    pairs = [(k, v) for k in request.args for v in request.args.getlist(k) if k != "lang"]
    return request.path + "?" + urlencode([*pairs, ("lang", lang)])


def values(request: object, datasette: object, **extra: object) -> dict:
    t = words(request)
    return {"t": t, "lang": t.lang, "switch_url": switch_url(request, t.other), "plugin": STATIC,
            "noindex": not robots_allowed(datasette), **extra}


async def render(datasette: object, request: object, template: str, status: int = 200, **extra: object) -> Response:
    context = values(request, datasette, **extra)
    response = Response.html(await datasette.render_template(template, context, request=request), status=status)
    response.headers["Content-Language"] = context["lang"]
    return response
