"""The articles of the sample portals, and the clean article each page is expected to yield.

Each twin holds the seed articles assigned to it plus ``count`` generated ones. A generated article
is a pure function of (portal, index): its paragraphs, captions and author are drawn from the seeds
with a random generator seeded by that pair, so the same article looks the same in every run and at
every ``count``. Index 0 is the newest; indexes count back in time from ``EPOCH`` in steps of
``STEP``. :meth:`SampleSite.publish` adds newer articles (negative indexes), as a portal does
between two nightly crawls.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property
from importlib import resources

from archive.text import slugify

VN = timezone(timedelta(hours=7))
EPOCH = datetime(2025, 6, 30, 16, 45, tzinfo=VN)
STEP = timedelta(hours=9, minutes=7)
REPOST_EVERY, REPOST_DELAY = 7, timedelta(hours=2, minutes=15)

PLACES = [
    "Hải Sơn", "Bắc Sơn", "Vĩnh Trung", "Vĩnh Thực", "Quảng Nghĩa", "Hòa Lạc", "Bình Ngọc",
    "Trần Phú", "Ka Long", "Hải Hòa", "Hải Đông", "Vạn Ninh", "Hải Xuân", "Hải Tiến", "Trà Cổ",
]
TITLES = [
    "Thường trực Thành ủy làm việc với xã {place}",
    "Hội nghị giao ban công tác {period} tại {place}",
    "Kiểm tra tiến độ giải phóng mặt bằng tại {place}",
    "Ra quân lập lại trật tự đô thị, vệ sinh môi trường phường {place}",
    "Đối thoại với Nhân dân xã {place} về xây dựng nông thôn mới",
    "Triển khai nhiệm vụ phát triển kinh tế - xã hội {period}",
    "Sơ kết Chỉ thị về nước sạch tại {place}, {period}",
    "Xã {place} đón nhận danh hiệu xã phường sạch ma túy",
]


@dataclass(frozen=True)
class Block:
    kind: str  # "paragraph" or "caption"
    text: str


@dataclass(frozen=True)
class SampleArticle:
    """One article of a twin, with what a careful reader would copy from its page."""

    portal: str
    index: int
    id: int
    title: str
    published: datetime
    blocks: tuple[Block, ...]
    author: str
    unit: str | None
    seed: str | None = None
    # Seed 003 carries no date on its page: only the listing that links it shows one.
    date_on_page: bool = True
    modified: datetime | None = None  # set when the portal edited the article after publishing it

    @property
    def attachment(self) -> str | None:
        """The path of the document the article links to, if any: one in four has one, and one in twenty
        a scan far too large to keep (50 MB)."""
        if self.id % 20 == 0:
            return f"/Uploads/files/{self.id}-ban-scan.pdf"
        return f"/Uploads/files/{self.id}.pdf" if self.id % 4 == 0 else None

    @property
    def etag(self) -> str:
        """What an HTTP server would send as the page's ETag: changes with the content."""
        digest = hashlib.sha1(repr((self.title, self.blocks, self.author)).encode()).hexdigest()
        return f'"{digest[:16]}"'

    @property
    def paragraphs(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind == "paragraph"]

    @property
    def captions(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind == "caption"]

    @property
    def slug(self) -> str:
        return slugify(self.title)

    def expected(self, url: str) -> dict:
        """The clean article the archive should hold for this page."""
        return {
            "url": url,
            "portal": self.portal,
            "title": self.title,
            "published": self.published.isoformat(),
            "paragraphs": self.paragraphs,
            "text": "\n".join(self.paragraphs),
            "captions": self.captions,
            "author": self.author,
            "unit": self.unit,
        }


def _load_seeds() -> list[dict]:
    return json.loads(resources.files("archive.samples").joinpath("seeds.json").read_text("utf-8"))


@dataclass
class Pools:
    """Seed material the generator draws from."""

    paragraphs: list[str]
    captions: list[str]
    authors: list[str]

    @classmethod
    def from_seeds(cls, seeds: list[dict]) -> Pools:
        blocks = [b for s in seeds for b in s["blocks"]]
        return cls(
            paragraphs=[b["text"] for b in blocks if b["kind"] == "paragraph"],
            captions=[b["text"] for b in blocks if b["kind"] == "caption"],
            authors=sorted({s["author"] for s in seeds}),
        )


def _draw_published(rng: random.Random, index: int) -> datetime:
    return (EPOCH - index * STEP - timedelta(minutes=rng.randrange(0, 180))).replace(second=0)


def _stable_int(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:6], "big")


@dataclass
class PortalTwin:
    """The article list of one sample portal; the family renders it into pages."""

    name: str
    unit: str | None
    seeds: list[dict]
    pools: Pools
    count: int
    published_extra: int = 0
    reposts_from: str | None = None
    repost_unit: str | None = None
    edits: dict[int, int] = field(default_factory=dict)  # article id -> times edited
    removed: set[int] = field(default_factory=set)
    _changes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cached: tuple = field(default=(None, [], {}), repr=False)

    def _origin(self, index: int) -> tuple[str, str | None, timedelta]:
        """Whose article index is, its unit, and how long after the original it is published here.

        The provincial portal reposts every seventh story of the city portal, two hours later.
        """
        if self.reposts_from and index % REPOST_EVERY == 3:
            return self.reposts_from, self.repost_unit, REPOST_DELAY
        return self.name, self.unit, timedelta(0)

    def generated(self, index: int) -> SampleArticle:
        source, unit, delay = self._origin(index)
        rng = random.Random(f"{source}:{index}")
        published = _draw_published(rng, index) + delay
        period = rng.choice([f"quý {(published.month - 1) // 3 + 1}/{published.year}",
                             f"tháng {published.month}/{published.year}"])
        title = rng.choice(TITLES).format(place=rng.choice(PLACES), period=period)
        paragraphs = rng.sample(self.pools.paragraphs, rng.randint(3, 8))
        blocks = [Block("paragraph", p) for p in paragraphs]
        for caption in rng.sample(self.pools.captions, rng.randint(1, 3)):
            blocks.insert(rng.randint(1, len(blocks)), Block("caption", caption))
        return SampleArticle(
            portal=self.name, index=index, id=500_000 - index, title=title, published=published,
            blocks=tuple(blocks), author=rng.choice(self.pools.authors), unit=unit,
        )

    @cached_property
    def seed_articles(self) -> list[SampleArticle]:
        return [
            SampleArticle(
                portal=self.name, index=-1, id=10_000 + _stable_int(s["seed"]) % 90_000,
                title=s["title"], published=datetime.fromisoformat(s["published"]),
                blocks=tuple(Block(b["kind"], b["text"]) for b in s["blocks"]),
                author=s["author"], unit=s["unit"], seed=s["seed"],
                date_on_page=s["seed"] != "003_c30feb35b389a010",
            )
            for s in self.seeds
        ]

    def _timeline(self) -> list[tuple[datetime, int, SampleArticle | None]]:
        """(published, id, seed-or-None) of every visible article, newest first; cheap to build."""
        items: list[tuple[datetime, int, SampleArticle | None]] = []
        for index in range(-self.published_extra, self.count):
            items.append((self._published_of(index), 500_000 - index, None))
        items.extend((a.published, a.id, a) for a in self.seed_articles)
        items = [item for item in items if item[1] not in self.removed]
        items.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return items

    def _published_of(self, index: int) -> datetime:
        """The first draw of generated(), without building the article."""
        source, _, delay = self._origin(index)
        return _draw_published(random.Random(f"{source}:{index}"), index) + delay

    def _current(self) -> tuple[list[tuple[datetime, int, SampleArticle | None]], dict[int, int]]:
        with self._lock:
            key = (self.count, self.published_extra, self._changes)
            if self._cached[0] != key:
                timeline = self._timeline()
                positions = {article_id: n for n, (_, article_id, _) in enumerate(timeline)}
                self._cached = (key, timeline, positions)
            return self._cached[1], self._cached[2]

    @property
    def timeline(self) -> list[tuple[datetime, int, SampleArticle | None]]:
        return self._current()[0]

    def position(self, article_id: int) -> int | None:
        """Where the article stands in the listing, newest first."""
        return self._current()[1].get(article_id)

    def article_ids(self) -> list[int]:
        return [article_id for _, article_id, _ in self.timeline]

    def article(self, article_id: int) -> SampleArticle | None:
        if article_id in self.removed:
            return None
        article = next((seed for seed in self.seed_articles if seed.id == article_id), None)
        index = 500_000 - article_id
        if article is None and -self.published_extra <= index < self.count:
            article = self.generated(index)
        if article is None or article_id not in self.edits:
            return article
        times = self.edits[article_id]
        blocks = list(article.blocks)
        last = max(n for n, b in enumerate(blocks) if b.kind == "paragraph")
        blocks[last] = Block("paragraph", f"{blocks[last].text} (Bài viết được cập nhật lần {times}.)")
        return replace(article, blocks=tuple(blocks), modified=article.published + timedelta(days=times))

    def articles(self) -> list[SampleArticle]:
        """Every visible article, newest first (builds them all: for tests, not for 100,000)."""
        return [self.article(article_id) for _, article_id, _ in self.timeline]

    def publish(self, n: int) -> None:
        """Make ``n`` newer articles appear, as between two nightly crawls."""
        with self._lock:
            self.published_extra += n

    def edit(self, article_id: int) -> None:
        """Change the article's text, as a portal correcting a story does."""
        with self._lock:
            self.edits[article_id] = self.edits.get(article_id, 0) + 1
            self._changes += 1

    def remove(self, article_id: int) -> None:
        """Take the article down: its page answers 404 and the listings no longer show it."""
        with self._lock:
            self.removed.add(article_id)
            self._changes += 1


def make_twins(count: int) -> dict[str, PortalTwin]:
    seeds = _load_seeds()
    pools = Pools.from_seeds(seeds)
    mongcai_unit = "Trung tâm TT&VH Móng Cái"
    twins = {
        "mongcai": PortalTwin("mongcai", mongcai_unit, [], pools, count),
        "quangninh": PortalTwin("quangninh", None, [], pools, count, reposts_from="mongcai",
                                repost_unit=mongcai_unit),
        "baoquangninh": PortalTwin("baoquangninh", None, [], pools, count),
        "halong": PortalTwin("halong", "Trung tâm TT&VH Hạ Long", [], pools, count),
    }
    for twin in twins.values():
        twin.seeds = [s for s in seeds if s["portal"] == twin.name]
    return twins
