"""Benchmark: public news list at 1 000 and 100 000 items (not a test).

Seeds one database per size (then ANALYZE, as autovacuum/ANALYZE would have done in a real
deployment) and measures, in-process through the WSGI app, the median latency of: the first
page, a deep cursor page (90 % down), a 304 revalidation and a delta-sync request. Both sizes
stay open and are measured in interleaved rounds, so a change of machine load during the run
hits both sizes alike instead of skewing the ratio. Prints the 100k/1k ratio per request type
(target <= 1.5), the 304/200 cost ratio (target <= 0.3) and the SQL statements per request.

    python bench/content_list.py                   # SQLite files in a temp directory
    DATABASE_URL=postgresql+psycopg://... python bench/content_list.py   # a scratch database;
        # it creates (and drops afterwards) the schemas bench_1000 and bench_100000 there

BENCH_REPEAT (default 60) samples per request type and size, in BENCH_ROUNDS (default 6)
interleaved rounds.
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

from sqlalchemy import event, insert, select, text

from cityapp import create_app
from cityapp.content.models import NewsItem
from cityapp.db import db, utcnow

SIZES = (1_000, 100_000)
REPEAT = int(os.environ.get("BENCH_REPEAT", "60"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
WARMUP = 5
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
    config = {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}
    schema = f"bench_{size}"
    if url.startswith("postgresql"):
        # One schema per size in the given database, so that both sizes can stay open.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "pool_pre_ping": True,
            "connect_args": {"options": f"-csearch_path={schema}"},
        }
    app = create_app(config)
    from flask_migrate import upgrade

    with app.app_context():
        if url.startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {schema}"))
        upgrade()
    return app


def drop(app, size: int) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA bench_{size} CASCADE"))
        db.engine.dispose()


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


def prepare(app, size: int) -> dict:
    """The four requests for one size, as callables that check their status."""
    client = app.test_client()
    # A deep cursor: page through once with big pages to 90 % of the list.
    cursor, walked = None, 0
    while walked < size * 0.9:
        url = "/api/v1/news?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url).get_json()
        cursor, walked = page["next_cursor"], walked + len(page["items"])
    with app.app_context():
        since = utcnow()
        for item in db.session.scalars(select(NewsItem).order_by(NewsItem.id.desc()).limit(3)):
            item.title = {"de": item.title["de"] + " (aktualisiert)"}
        db.session.commit()
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
        "first page": first,
        "deep cursor page": deep,
        "304 revalidation": revalidate,
        "delta sync": delta,
    }


def count_statements(app, call) -> int:
    """SQL statements one request sends (a check that nothing runs per row)."""
    with app.app_context():
        engine = db.engine
    statements = []

    def before(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", before)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def measure(calls: dict[int, dict]) -> dict[int, dict[str, float]]:
    """Median per size and request type over interleaved rounds (sizes alternate)."""
    samples: dict[int, dict[str, list[float]]] = {size: {} for size in calls}
    for size_calls in calls.values():
        for call in size_calls.values():
            for _ in range(WARMUP):
                call()
    per_round = max(1, REPEAT // ROUNDS)
    for round_no in range(ROUNDS):
        sizes = list(calls) if round_no % 2 == 0 else list(reversed(calls))
        for name in calls[sizes[0]]:
            for size in sizes:
                call, times = calls[size][name], samples[size].setdefault(name, [])
                for _ in range(per_round):
                    started = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - started) * 1000)
    return {
        size: {name: statistics.median(times) for name, times in by_name.items()}
        for size, by_name in samples.items()
    }


def main() -> None:
    apps, calls = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for size in SIZES:
                apps[size] = make_app(size, Path(tmp))
                started = time.perf_counter()
                seed(apps[size], size)
                print(f"seeded {size:>7} news in {time.perf_counter() - started:.1f} s", flush=True)
                calls[size] = prepare(apps[size], size)
            statements = {
                name: [count_statements(apps[size], calls[size][name]) for size in SIZES]
                for name in calls[SIZES[0]]
            }
            results = measure(calls)
        finally:
            for size, app in apps.items():
                drop(app, size)
    small, large = results[SIZES[0]], results[SIZES[1]]
    dialect = (
        "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    )
    per_round = max(1, REPEAT // ROUNDS)
    print(
        f"\n{dialect}, median of {per_round * ROUNDS} requests in {ROUNDS} interleaved rounds (ms)"
    )
    print(f"{'request':<20}{'1k':>10}{'100k':>10}{'100k/1k':>10}{'SQL 1k/100k':>14}")
    for name in small:
        ratio = large[name] / small[name]
        queries = "/".join(str(n) for n in statements[name])
        print(f"{name:<20}{small[name]:>10.2f}{large[name]:>10.2f}{ratio:>10.2f}{queries:>14}")
    for size in SIZES:
        ratio = results[size]["304 revalidation"] / results[size]["first page"]
        print(f"304/200 at {size:>7}: {ratio:.2f}")


if __name__ == "__main__":
    main()
