"""What photos and documents cost per article: bytes, requests and crawl time, against the text archive.

    python bench/media.py [--count 200] [--photo-bytes 150000]

Serves the three live sample portals with COUNT generated articles each on 127.0.0.1, their photos
padded to PHOTO_BYTES (a portal photo's usual size; the tests' twins serve 400-byte ones), and crawls
them twice into fresh archives: with media and with --no-media. Requests are counted from the sample
servers' own logs; sizes are the files on disk after the crawl (the text archive VACUUMed, as the
served snapshot is). Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from archive.samples.families import Family  # noqa: E402
from archive.samples.server import SampleSite  # noqa: E402
from bench.report import publish  # noqa: E402

PORTALS = ("mongcai", "quangninh", "baoquangninh")


def crawl(site: SampleSite, db: Path, *extra: str) -> tuple[float, int, int]:
    """Seconds, page requests and media requests of one crawl."""
    before = {name: len(site.running[name].hits) for name in PORTALS}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "portal_archive", "crawl", *PORTALS, "--db", str(db), "--delay", "0",
                    "--log-level", "ERROR", *[f"--origin={n}={site.origins[n]}" for n in PORTALS], *extra],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    hits = [hit for name in PORTALS for hit in site.running[name].hits[before[name]:]]
    media = sum(hit.path.endswith((".jpg", ".pdf")) for hit in hits)
    return seconds, len(hits) - media, media


def vacuumed(db: Path) -> int:
    out = db.with_name(db.stem + "-vacuumed.db")
    conn = sqlite3.connect(db)
    conn.execute(f"vacuum into '{out}'")
    conn.close()
    return out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--photo-bytes", type=int, default=150_000)
    args = parser.parse_args()
    Family.photo_size = args.photo_bytes
    with tempfile.TemporaryDirectory() as scratch, SampleSite(count=args.count) as site:
        with_media, without = Path(scratch) / "with" / "archive.db", Path(scratch) / "without" / "archive.db"
        with_media.parent.mkdir()
        without.parent.mkdir()
        plain_s, plain_pages, _ = crawl(site, without, "--no-media")
        media_s, pages, media = crawl(site, with_media)
        again_s, _, media_again = crawl(site, with_media)
        conn = sqlite3.connect(with_media)
        articles = conn.execute("select count(*) from articles").fetchone()[0]
        linked, kept = conn.execute("select count(*), count(sha256) from article_media").fetchone()
        conn.close()
        mconn = sqlite3.connect(with_media.with_name("archive-media.db"))
        files, stored = mconn.execute("select count(*), sum(size) from media").fetchone()
        mconn.close()
        text = vacuumed(with_media)
        media_file = with_media.with_name("archive-media.db").stat().st_size
    kib = 1024
    lines = [
        f"{articles} articles of 3 sample portals, photos {args.photo_bytes // 1000} kB each "
        f"(`python bench/media.py --count {args.count} --photo-bytes {args.photo_bytes}`).",
        "",
        "| per article | text only (`--no-media`) | with photos and documents |",
        "|---|---|---|",
        f"| requests | {plain_pages / articles:.2f} | {(pages + media) / articles:.2f} "
        f"({media / articles:.2f} for media) |",
        f"| crawl time | {plain_s / articles * 1000:.0f} ms | {media_s / articles * 1000:.0f} ms |",
        f"| bytes kept | {text / articles / kib:.1f} KiB (text archive, vacuumed) | "
        f"+ {media_file / articles / kib:.0f} KiB (media file) |",
        "",
        f"{linked} media links, {kept} with bytes (the others: the twins' missing photos and 50 MB scans, "
        f"left); {files} distinct files, {stored / 1024 / 1024:.1f} MiB, in a media file of "
        f"{media_file / 1024 / 1024:.1f} MiB beside a text archive of {text / 1024 / 1024:.1f} MiB. "
        f"A second run fetched {media_again} media files and took {again_s:.1f} s.",
    ]
    publish("media", "Photos and documents", lines)


if __name__ == "__main__":
    main()
