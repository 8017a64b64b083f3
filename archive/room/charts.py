"""The charts, as Vega-Lite specifications drawn in the browser by the Vega scripts the archive serves
itself (those datasette-dashboards ships): nothing is fetched from another host."""

from __future__ import annotations

from archive.room.i18n import Words

SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
SCRIPTS_PLUGIN = "datasette-dashboards"  # the plugin whose static files hold them
WIDTH = "container"


def _months(rows: list[dict], t: Words, title: str, retired: str | None = None, height: int = 220) -> dict:
    """Bars of articles per month, one bar per month, with a rule where the portal was retired."""
    bars = {
        "data": {"values": rows},
        "mark": {"type": "bar", "tooltip": True, "color": "#2b6cb0"},
        "encoding": {
            "x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": t("month"),
                  "axis": {"format": "%m/%Y" if t.lang == "vi" else "%b %Y", "labelAngle": -40}},
            "y": {"field": "articles", "type": "quantitative", "title": t("articles")},
        },
    }
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "width": WIDTH,
            "height": height, "layer": [bars]}
    if retired:
        mark = {"data": {"values": [{"month": retired, "label": f"{t('retired_mark')} {t.day(retired)}"}]},
                "encoding": {"x": {"field": "month", "type": "temporal"}}}
        spec["layer"] += [
            {**mark, "mark": {"type": "rule", "color": "#c53030", "strokeWidth": 2, "strokeDash": [4, 3]}},
            {**mark, "mark": {"type": "text", "color": "#c53030", "align": "right", "dx": -4, "dy": -6, "y": 0},
             "encoding": {**mark["encoding"], "text": {"field": "label"}}},
        ]
    return spec


def per_month(rows: list[dict], t: Words) -> dict:
    """All portals: one bar a month, the months any portal published in."""
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["month"]] = totals.get(row["month"], 0) + row["articles"]
    return _months([{"month": f"{m}-01", "articles": n} for m, n in sorted(totals.items())], t, t("per_month_all"))


def per_portal(rows: list[dict], portal: dict, t: Words) -> dict:
    mine = [{"month": f"{r['month']}-01", "articles": r["articles"]} for r in rows if r["portal"] == portal["name"]]
    return _months(mine, t, portal.get("title") or portal["name"], portal.get("retired"), height=160)


def health(runs: list[dict], t: Words) -> dict:
    """Pages, errors and fallbacks of each run, as lines over the runs' start times."""
    measures = [("pages", t("pages")), ("errors", t("errors")), ("fallbacks", t("fallbacks"))]
    values = [{"started": run["started"], "portal": run["portal"], "measure": label, "value": run[key] or 0}
              for run in runs for key, label in measures]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": t("health"), "width": WIDTH,
        "height": 220, "data": {"values": values},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "encoding": {
            "x": {"field": "started", "type": "temporal", "title": t("run"),
                  "axis": {"format": "%d/%m/%Y" if t.lang == "vi" else "%d %b %Y"}},
            "y": {"field": "value", "type": "quantitative", "aggregate": "sum", "title": t("count")},
            "color": {"field": "measure", "type": "nominal", "title": None,
                      "scale": {"domain": [label for _, label in measures],
                                "range": ["#2b6cb0", "#c53030", "#d69e2e"]}},
        },
    }
