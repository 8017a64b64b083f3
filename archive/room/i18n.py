"""The reading room's words in Vietnamese first and English, and dates and numbers as each writes them.

The language is the `lang` argument (`?lang=en`, kept in a cookie by the room's ASGI wrapper), else the
reader's `Accept-Language`, else Vietnamese.
"""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("vi", "en")
COOKIE = "lang"

MESSAGES: dict[str, tuple[str, str]] = {  # key: (Vietnamese, English)
    "site": ("Kho lưu trữ tin các cổng thông tin Quảng Ninh", "Quảng Ninh portals news archive"),
    "tagline": ("Tin tức chính thức của các cổng thông tin tỉnh, thành phố và báo tỉnh, được lưu giữ lâu dài "
                "và tìm được, kể cả khi cổng đã ngừng hoạt động.",
                "The official news of the provincial and city portals and the provincial newspaper, kept "
                "for good and searchable, even once a portal is retired."),
    "home": ("Trang chủ", "Home"),
    "search": ("Tìm kiếm", "Search"),
    "charts": ("Biểu đồ", "Charts"),
    "data": ("Dữ liệu và SQL", "Data and SQL"),
    "download": ("Tải toàn bộ kho (SQLite)", "Download the archive (SQLite)"),
    "language": ("English", "Tiếng Việt"),  # the link to the other language
    "other_lang": ("en", "vi"),
    "placeholder": ("Tìm bài viết: có dấu, không dấu, Telex hay VNI đều được",
                    "Search articles: with or without accents, or typed in Telex or VNI"),
    "search_button": ("Tìm", "Search"),
    "results": ("{n} kết quả", "{n} results"),
    "results_more": ("hơn {n} kết quả", "more than {n} results"),
    "no_results": ("Không tìm thấy bài nào cho “{q}”.", "No article found for “{q}”."),
    "search_failed": ("Tìm kiếm này mất quá nhiều thời gian; hãy thêm từ hoặc chọn một cổng.",
                      "This search took too long; add words or choose a portal."),
    "read_as": ("Tìm cả: {words}", "Also searched as: {words}"),
    "portal": ("Cổng thông tin", "Portal"),
    "portals": ("Các cổng thông tin", "Portals"),
    "year": ("Năm", "Year"),
    "all": ("Tất cả", "All"),
    "remove_filter": ("bỏ lọc", "remove filter"),
    "previous": ("← Trang trước", "← Previous"),
    "next": ("Trang sau →", "Next →"),
    "page": ("Trang {n}", "Page {n}"),
    "reposts": ("đăng lại trên {n} cổng khác", "reposted on {n} other portals"),
    "as_sql": ("Xem truy vấn này bằng SQL", "This search as SQL"),
    "articles_count": ("{n} bài", "{n} articles"),
    "retired": ("ngừng hoạt động từ {date}", "retired on {date}"),
    "published": ("Đăng lúc", "Published"),
    "author": ("Tác giả", "Author"),
    "unit": ("Đơn vị", "Unit"),
    "original": ("Địa chỉ gốc", "Original address"),
    "fetched_from": ("Lấy từ", "Fetched from"),
    "captured_at": ("Bản chụp lúc", "Captured"),
    "archived_page": ("Trang lưu trữ như đã tải về (không chạy mã nào)",
                      "The archived page as fetched (no script runs)"),
    "open_archived": ("Mở trang lưu trữ", "Open the archived page"),
    "photo_missing": ("Không lấy được ảnh này", "This photo could not be fetched"),
    "documents": ("Tài liệu đính kèm", "Attached documents"),
    "document_missing": ("chưa lấy được tệp", "file not fetched"),
    "captions": ("Chú thích ảnh", "Photo captions"),
    "gone": ("Cổng thông tin đã gỡ bài này từ {date}. Bản lưu trữ vẫn được giữ nguyên.",
             "The portal took this article down on {date}. The archived copy is kept as it was."),
    "versions": ("Lịch sử phiên bản", "Version history"),
    "version": ("Phiên bản {n}", "Version {n}"),
    "current": ("hiện tại", "current"),
    "fetched_at": ("lấy lúc {date}", "fetched {date}"),
    "changes": ("Thay đổi từ phiên bản {a} sang {b}", "Changes from version {a} to {b}"),
    "one_version": ("Bài chưa từng bị sửa kể từ khi được lưu.", "Unchanged since it was archived."),
    "reposted_on": ("Đăng lại trên cổng khác", "Reposted on other portals"),
    "copy_of": ("Bài này đăng lại từ", "This is a repost of"),
    "as_row": ("Xem dòng dữ liệu (JSON, SQL)", "This row as data (JSON, SQL)"),
    "per_month": ("Số bài mỗi tháng", "Articles per month"),
    "per_month_all": ("Số bài mỗi tháng, tất cả các cổng", "Articles per month, all portals"),
    "month": ("Tháng", "Month"),
    "articles": ("Số bài", "Articles"),
    "health": ("Tình trạng thu thập qua các lần chạy", "Crawl health, run by run"),
    "health_note": ("Số trang đã lấy, lỗi và số trang phải dùng cách trích xuất dự phòng (quy tắc của cổng không "
                    "khớp) ở mỗi lần chạy.",
                    "Pages fetched, errors, and pages the portal's rules did not fit (extracted by the "
                    "fallback) in each run."),
    "run": ("Lần chạy", "Run"),
    "count": ("Số lượng", "Count"),
    "pages": ("Trang đã lấy", "Pages fetched"),
    "errors": ("Lỗi", "Errors"),
    "fallbacks": ("Dự phòng", "Fallbacks"),
    "retired_mark": ("Ngừng hoạt động", "Retired"),
    "no_data": ("Chưa có dữ liệu.", "No data yet."),
    "latest": ("Bài mới lưu", "Latest archived"),
    "robots_off": ("Kho lưu trữ này không cho máy tìm kiếm lập chỉ mục.", "Search engines are kept off this archive."),
}

DAYS = {"vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
        "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def language(args: dict[str, str], cookies: dict[str, str], accept: str) -> str:
    """The reader's language: asked for, remembered, or preferred by the browser; Vietnamese by default."""
    for chosen in (args.get("lang"), cookies.get(COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    ranked = []
    for position, part in enumerate(accept.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-weight, position, tag.strip().lower().split("-")[0]))
    for _, _, tag in sorted(ranked):
        if tag in LANGUAGES:
            return tag
    return "vi"


def number(value: int | float, lang: str) -> str:
    """`12.345` in Vietnamese, `12,345` in English."""
    text = f"{value:,}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text


def day(iso: str | None, lang: str) -> str:
    """A day as the reader writes it: `01/07/2025`, `1 July 2025` (an unreadable value as it is)."""
    try:
        moment = datetime.fromisoformat(iso or "")
    except ValueError:
        return iso or ""
    return f"{moment:%d/%m/%Y}" if lang == "vi" else f"{moment.day} {MONTHS_EN[moment.month - 1]} {moment.year}"


def when(iso: str | None, lang: str) -> str:
    """An ISO time as the reader writes it, in the page's own offset: `Thứ Năm, 11/07/2024 16:58`,
    `Thursday, 11 July 2024 16:58`; a day alone without the clock."""
    try:
        moment = datetime.fromisoformat(iso or "")
    except ValueError:
        return iso or ""
    clock = f" {moment:%H:%M}" if len(iso) > 10 else ""
    return f"{DAYS[lang][moment.weekday()]}, {day(iso, lang)}{clock}"


class Words:
    """``t("results", n=3)``: a message in the reader's language, its numbers written as they write them."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.other = MESSAGES["other_lang"][0 if lang == "vi" else 1]

    def __call__(self, key: str, **values: object) -> str:
        text = MESSAGES[key][0 if self.lang == "vi" else 1]
        shown = {k: number(v, self.lang) if isinstance(v, int) else v for k, v in values.items()}
        return text.format(**shown) if shown else text

    def when(self, iso: str | None) -> str:
        return when(iso, self.lang)

    def day(self, iso: str | None) -> str:
        return day(iso, self.lang)

    def number(self, value: int) -> str:
        return number(value, self.lang)
