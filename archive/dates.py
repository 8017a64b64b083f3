"""Publication times as Vietnamese portals print them, as aware datetimes.

Most date lines hold a numeric day/month/year and a time, among labels and weekdays (`Thứ Năm,
12/03/2020, 13:42 [GMT+7]`, `Cập nhật lúc 15h20 ngày 11/07/2024`): those are found by one regex and
read by strptime, since dateparser's language-aware search costs about a millisecond a date, in
the crawl's own process for every listing date. The worded forms (`ngày 12 tháng 3 năm 2020`)
go to dateparser. A time keeps the UTC offset the page gives (`GMT+2`, `+00:00` in a JSON-LD stamp);
Vietnam time (+07:00) is assumed only where the page gives none.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

from dateparser.date import DateDataParser

from archive.model import VN, aware
from archive.text import clean

_SETTINGS = {
    "DATE_ORDER": "DMY",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "TO_TIMEZONE": "Asia/Ho_Chi_Minh",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "PREFER_DATES_FROM": "past",
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PARSERS": ["timestamp", "relative-time", "absolute-time", "no-spaces-time"],
}
_DATE = r"\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{4}"
_TIME = r"\d{1,2}\s*(?::|h|giờ)\s*\d{2}(?!\d)"
# A numeric date with the time before or after it, within a few characters of labels and commas.
_NUMERIC = re.compile(rf"(?:(?P<t1>{_TIME})\D{{0,12}}?)?(?P<date>{_DATE})(?:\D{{0,12}}?(?P<t2>{_TIME}))?")
_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
# An offset printed beside the time: `[GMT+7]`, `(UTC+02:00)`, `GMT-5`.
_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?\b")


def _offset(text: str) -> timezone:
    """The offset a date line prints, or Vietnam time."""
    match = _OFFSET.search(text)
    if not match or int(match.group("hours")) > 14:
        return VN
    delta = timedelta(hours=int(match.group("hours")), minutes=int(match.group("minutes") or 0))
    return timezone(-delta if match.group("sign") == "-" else delta)


@cache
def _dateparser() -> DateDataParser:
    # One parser for the process: dateparser.parse builds a new one, with its locales, every call.
    return DateDataParser(languages=["vi", "en"], settings=_SETTINGS)


def _time(text: str) -> str:
    hours, minutes = re.findall(r"\d+", text)
    return f"{int(hours):02d}:{minutes}"


def parse_date(text: str | None) -> datetime | None:
    """The moment a date line names, at the offset it prints (else UTC+7), or None when it names no
    full date."""
    if not text:
        return None
    text = clean(text)
    match = _NUMERIC.search(text)
    try:
        if match:  # most dates: read as day/month/year, with no need of dateparser's language work
            date = re.sub(r"\s*[/.-]\s*", "/", match.group("date"))
            clock = match.group("t2") or match.group("t1")
            return datetime.strptime(f"{date} {_time(clock) if clock else '00:00'}", "%d/%m/%Y %H:%M").replace(
                tzinfo=_offset(text))
        if not _YEAR.search(text):  # a full date names its year; a relative one (`2 giờ trước`) is
            return None  # relative to when it was printed, which a page read later no longer tells
        parsed = _dateparser().get_date_data(text).date_obj
    except (ValueError, OverflowError):  # 31/02/2024, or a year out of range
        return None
    return parsed.astimezone(VN) if parsed else None


# No news page was published before the web; pages print `0001-01-01` or `1970-01-01` where no date was
# set, and a time days after the page was fetched is a typo or a placeholder too.
EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)


def plausible(moment: datetime | None, reference: datetime) -> datetime | None:
    """``moment`` if it can be a publication time of a page fetched at ``reference``, else None."""
    if moment is None or not EARLIEST <= aware(moment) <= aware(reference) + timedelta(days=2):
        return None
    return moment


def parse_iso(value: str | None) -> datetime | None:
    """An ISO 8601 stamp from JSON-LD or a meta tag, at its own offset; one without is Vietnam time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return parse_date(value)
    return aware(moment)


CAPTURE_STAMP = "%Y%m%d%H%M%S"  # the Wayback Machine's and the captures ledger's: 14 digits, UTC


def capture_stamp(moment: datetime) -> str:
    return aware(moment).astimezone(UTC).strftime(CAPTURE_STAMP)


def from_capture_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, CAPTURE_STAMP).replace(tzinfo=UTC)


def isoformat(moment: datetime | None) -> str | None:
    """`2024-07-11T16:58:00+07:00`: to the second, at the moment's own offset (Vietnam time if none)."""
    if moment is None:
        return None
    return aware(moment).isoformat(timespec="seconds")


# "Sáng 20/10, …", "Ngày 21/3, …": a lead that gives day and month only.
_LEAD = re.compile(r"^(?:sáng|chiều|tối|trưa|đêm|ngày|hôm nay|chiều tối|sáng sớm)\s+(?:nay\s+)?"
                   r"(\d{1,2})\s*/\s*(\d{1,2})(?!\s*/\s*\d)", re.IGNORECASE)
# A year in the article's URL: /202110/, /2021/10/, -2021-
_URL_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:/?(?:0[1-9]|1[0-2]))?(?=[/_-])")


def infer_lead_date(lead: str, url: str, reference: datetime, body: str = "") -> datetime | None:
    """The day a lead like `Sáng 20/10, …` names, with its year from (in that order) the URL, the
    latest full date the article mentions (news cites documents dated before it), or the latest
    year that does not put it after ``reference`` (the crawl date): a lead never tells the future."""
    match = _LEAD.match(clean(lead))
    if not match:
        return None
    day, month = int(match.group(1)), int(match.group(2))
    reference = reference.astimezone(VN)
    if url_year := _URL_YEAR.search(url):
        years = [int(url_year.group(1))]
    elif cited := _latest_cited(body, reference):
        years = [cited.year if (month, day) >= (cited.month, cited.day) else cited.year + 1]
    else:
        years = [reference.year, reference.year - 1]
    for year in years:
        try:
            moment = datetime(year, month, day, tzinfo=VN)
        except ValueError:
            return None
        if moment <= reference:
            return moment
    return None


def _latest_cited(text: str, reference: datetime) -> datetime | None:
    """The latest full date (d/m/yyyy) written in ``text`` that is not after ``reference``."""
    cited = []
    for day, month, year in re.findall(r"(?<!\d)(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})(?!\d)", text):
        try:
            moment = datetime(int(year), int(month), int(day), tzinfo=VN)
        except ValueError:
            continue
        if moment <= reference:
            cited.append(moment)
    return max(cited, default=None)
