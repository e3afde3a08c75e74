"""Benchmark: public news list at 1 000 and 100 000 items (not a test).

Seeds a fresh database per size and measures, in-process through the WSGI app, the median
latency of: the first page, a deep cursor page (90 % down), a 304 revalidation and a delta-sync
request. Prints the 100k/1k ratio per request type (target <= 1.5) and the 304/200 cost ratio
(target <= 0.3).

    python bench/content_list.py                   # SQLite in a temp directory
    DATABASE_URL=postgresql+psycopg://... python bench/content_list.py   # an EMPTY database
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text

from cityapp import create_app
from cityapp.content.models import NewsItem
from cityapp.db import db, utcnow

SIZES = (1_000, 100_000)
REPEAT = int(os.environ.get("BENCH_REPEAT", "40"))
WORDS = [
    "Rathaus",
    "Baustelle",
    "Stadtfest",
    "Bürgerbüro",
    "Wasser",
    "Schule",
    "Park",
    "Verkehr",
    "Markt",
    "Kultur",
]


def make_app(size: int, tmp: Path):
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / f'bench-{size}.sqlite3'}"
    app = create_app(
        {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}
    )
    from flask_migrate import upgrade

    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
    return app


def seed(app, size: int) -> None:
    now = utcnow()
    with app.app_context():
        rows = []
        for i in range(size):
            word = WORDS[i % len(WORDS)]
            published = now - timedelta(minutes=size - i)
            rows.append(
                {
                    "status": "published",
                    "title": {"de": f"{word} Nachricht {i}"},
                    "summary": {"de": f"Kurzfassung {i}"},
                    "body": {"de": f"<p>Text über {word} Nummer {i}.</p>"},
                    "category": "rathaus",
                    "tags": [],
                    "images": [],
                    "is_pinned": False,
                    "publish_at": published,
                    "first_published_at": published,
                    "search_text": f"{word} Nachricht {i} Kurzfassung {i} Text über {word}",
                    "created_at": published,
                    "updated_at": published,
                }
            )
            if len(rows) == 5_000:
                db.session.execute(insert(NewsItem), rows)
                rows = []
        if rows:
            db.session.execute(insert(NewsItem), rows)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE news_items")
                )
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def median_ms(call, repeat: int = REPEAT) -> float:
    call()  # warm up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(app, size: int) -> dict[str, float]:
    client = app.test_client()
    # A deep cursor: page through once with big pages to 90 % of the list.
    cursor, walked = None, 0
    while walked < size * 0.9:
        url = "/api/v1/news?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).get_json()
        cursor, walked = page["next_cursor"], walked + len(page["items"])
    with app.app_context():
        last = db.session.scalar(select(NewsItem).order_by(NewsItem.id.desc()).limit(1))
        since = utcnow()
        for item in db.session.scalars(select(NewsItem).order_by(NewsItem.id.desc()).limit(3)):
            item.title = {"de": item.title["de"] + " (aktualisiert)"}
        db.session.commit()
        assert last is not None
    etag = client.get("/api/v1/news").headers["ETag"]

    def first():
        assert client.get("/api/v1/news").status_code == 200

    def deep():
        assert client.get(f"/api/v1/news?cursor={cursor}").status_code == 200

    def revalidate():
        assert client.get("/api/v1/news", headers={"If-None-Match": etag}).status_code == 304

    def delta():
        response = client.get(f"/api/v1/news?updated_since={quote(since.isoformat())}")
        assert response.status_code == 200 and len(response.get_json()["items"]) == 3

    return {
        "first page": median_ms(first),
        "deep cursor page": median_ms(deep),
        "304 revalidation": median_ms(revalidate),
        "delta sync": median_ms(delta),
    }


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            app = make_app(size, Path(tmp))
            started = time.perf_counter()
            seed(app, size)
            print(f"seeded {size:>7} news in {time.perf_counter() - started:.1f} s", flush=True)
            results[size] = measure(app, size)
            with app.app_context():
                db.engine.dispose()
    small, large = results[SIZES[0]], results[SIZES[1]]
    dialect = (
        "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else ("SQLite")
    )
    print(f"\n{dialect}, median of {REPEAT} requests (ms)")
    print(f"{'request':<20}{'1k':>10}{'100k':>10}{'100k/1k':>10}")
    for name in small:
        ratio = large[name] / small[name]
        print(f"{name:<20}{small[name]:>10.2f}{large[name]:>10.2f}{ratio:>10.2f}")
    for size in SIZES:
        ratio = results[size]["304 revalidation"] / results[size]["first page"]
        print(f"304/200 at {size:>7}: {ratio:.2f}")


if __name__ == "__main__":
    main()
