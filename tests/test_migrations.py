"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
from the command line as an operator runs them, and down and up again."""

from __future__ import annotations

import shutil
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from cityapp import create_app
from cityapp.db import UNMODELLED_PREFIXES, db
from tests.dbtools import (
    REPO,
    cli_env,
    flask_cli,
    fresh_database,
    fresh_postgres_database,
    reading,
    suite_postgres_url,
    table_names,
)


def _model_tables() -> set[str]:
    """Every table the models declare (the hand-made full-text objects are not models)."""
    from cityapp.models import MODELS

    assert MODELS  # importing the list puts every domain's tables into the metadata
    return set(db.metadata.tables)


def test_the_model_list_names_every_table_that_has_a_model():
    """cityapp.models.MODELS is the explicit list; a model missing from it would still reach
    the metadata through some import, and the list would silently lie."""
    from sqlalchemy import Table

    from cityapp.models import MODELS

    listed = {model.__table__.name for model in MODELS}
    mapped = {
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if isinstance(mapper.local_table, Table)
    }
    assert mapped == listed


def _modelled(names: set[str]) -> set[str]:
    return {name for name in names if not name.startswith(UNMODELLED_PREFIXES)}


def _heads(app: Flask) -> list[str]:
    migrate_ext = app.extensions["migrate"]
    with app.app_context():
        config = migrate_ext.migrate.get_config(migrate_ext.directory)
    return list(ScriptDirectory.from_config(config).get_heads())


def _schema_diff(app: Flask, connection) -> list:
    """What `flask db migrate` would generate: differences between models and the database."""
    opts = {**app.extensions["migrate"].configure_args, "compare_server_default": True}
    context = MigrationContext.configure(connection, opts=opts)
    return compare_metadata(context, db.metadata)


def test_there_is_exactly_one_head(app):
    heads = _heads(app)
    assert len(heads) == 1, heads
    assert (REPO / "migrations").is_dir()


def test_models_and_migrated_schema_do_not_differ(app):
    # The session database was built by `upgrade()` (see conftest), not by create_all().
    with app.app_context(), reading(), db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(_heads(app))
        diff = _schema_diff(app, connection)
    assert diff == [], f"models and migrations differ; run `flask db migrate`:\n{diff}"


@contextmanager
def _kind_database(kind: str, tmp_path: Path):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not suite_postgres_url():
        pytest.skip("PostgreSQL run only: set DATABASE_URL to a PostgreSQL database")
    with fresh_postgres_database() as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_flask_db_upgrade_downgrade_upgrade_on_an_empty_database(app, kind, tmp_path):
    with _kind_database(kind, tmp_path) as url:
        env = cli_env(url, tmp_path)
        assert table_names(url) == set()

        upgrade = flask_cli(["db", "upgrade"], env)
        assert "Running upgrade  -> " in upgrade.stderr, upgrade.stderr
        assert _modelled(table_names(url)) == _model_tables() | {"alembic_version"}
        current = flask_cli(["db", "current"], env)
        assert f"{_heads(app)[0]} (head)" in current.stdout

        flask_cli(["db", "downgrade", "base"], env)
        assert table_names(url) == {"alembic_version"}

        flask_cli(["db", "upgrade"], env)
        assert _modelled(table_names(url)) == _model_tables() | {"alembic_version"}
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                assert _schema_diff(app, connection) == []
        finally:
            engine.dispose()


# --- SQLite batch migrations -------------------------------------------------------------

PARENT_REBUILD = """
    from alembic import op
    import sqlalchemy as sa

    revision = "9001_probe"
    down_revision = "{head}"
    branch_labels = None
    depends_on = None


    def upgrade():
        # Batch mode on SQLite: copy to a new table, DROP the old one, rename.
        with op.batch_alter_table("staff_users", recreate="always") as batch_op:
            batch_op.add_column(sa.Column("probe", sa.String(10), nullable=True))


    def downgrade():
        with op.batch_alter_table("staff_users", recreate="always") as batch_op:
            batch_op.drop_column("probe")
"""

FAILING = """
    from alembic import op
    import sqlalchemy as sa

    revision = "9001_probe"
    down_revision = "{head}"
    branch_labels = None
    depends_on = None


    def upgrade():
        op.create_table("probe_things", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("INSERT INTO api_tokens (owner_id, name, token_hash, prefix, scopes, "
                   "created_at, updated_at) VALUES (999, 'orphan', 'h2', 'p', '[]', "
                   "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")


    def downgrade():
        op.drop_table("probe_things")
"""


def _probe_app(app: Flask, tmp_path: Path, revision_source: str) -> Flask:
    """An app on a temp SQLite file whose migrations are ours plus one probe revision."""
    directory = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", directory, ignore=shutil.ignore_patterns("__pycache__"))
    source = textwrap.dedent(revision_source).format(head=_heads(app)[0])
    (directory / "versions" / "9001_probe.py").write_text(source)
    return create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'probe.sqlite3'}",
            "MIGRATIONS_DIR": str(directory),
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def _seed_parent_and_children(connection) -> None:
    stamp = "'2026-01-01 00:00:00'"
    connection.execute(
        text(
            "INSERT INTO staff_users (id, email, display_name, role, is_active, session_version,"
            f" created_at, updated_at) VALUES (1, 'a@example.org', 'A', 'admin', 1, 1, {stamp},"
            f" {stamp})"
        )
    )
    connection.execute(
        text(
            "INSERT INTO api_tokens (owner_id, name, token_hash, prefix, scopes, created_at,"
            f" updated_at) VALUES (1, 't', 'h', 'p', '[]', {stamp}, {stamp})"
        )
    )
    connection.execute(
        text(
            "INSERT INTO audit_entries (created_at, actor_id, actor_label, action, summary)"
            f" VALUES ({stamp}, 1, 'staff:1', 'probe', '')"
        )
    )


def test_sqlite_batch_rebuild_of_a_parent_table_keeps_the_child_rows(app, tmp_path):
    """Rebuilding staff_users must not cascade-delete API tokens or null audit actors."""
    from flask_migrate import downgrade, upgrade

    probe = _probe_app(app, tmp_path, PARENT_REBUILD)
    with probe.app_context():
        upgrade(revision=_heads(app)[0])
        with db.engine.begin() as connection:
            _seed_parent_and_children(connection)
        upgrade()
        downgrade(revision=_heads(app)[0])
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1
            assert connection.execute(text("SELECT actor_id FROM audit_entries")).scalar() == 1
            assert "probe" in {c["name"] for c in inspect(connection).get_columns("staff_users")}
            # Foreign keys are enforced again on the pooled connection afterwards.
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            fks = inspect(connection).get_foreign_keys("api_tokens")
            assert [fk["referred_table"] for fk in fks] == ["staff_users"]
        with pytest.raises(IntegrityError, match="FOREIGN KEY"), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO api_tokens (owner_id, name, token_hash, prefix, scopes,"
                    " created_at, updated_at) VALUES (42, 'x', 'h3', 'p', '[]',"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        db.engine.dispose()


def test_sqlite_failed_migration_rolls_back_completely(app, tmp_path, caplog):
    """One transaction for the whole upgrade: a broken migration leaves nothing behind, and
    foreign keys are checked at the end even though they are off while migrations run."""
    from flask_migrate import upgrade

    probe = _probe_app(app, tmp_path, FAILING)
    with probe.app_context():
        upgrade(revision=_heads(app)[0])
        with pytest.raises(SystemExit):  # Flask-Migrate logs the error and exits 1
            upgrade()
        assert "migration left foreign key violations: [('api_tokens'" in caplog.text
        with db.engine.connect() as connection:
            assert "probe_things" not in inspect(connection).get_table_names()
            assert connection.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 0
            assert MigrationContext.configure(connection).get_current_heads() == tuple(_heads(app))
        db.engine.dispose()


@pytest.mark.slow
def test_job_ids_are_renamed_in_the_run_history_and_back(tmp_path):
    """0008_job_ids: the old ids in job_runs read <domain>.<name> afterwards (and the
    downgrade restores them), so the history of each job stays one history."""
    with fresh_database(tmp_path) as url:
        env = cli_env(url, tmp_path)
        flask_cli(["db", "upgrade", "0007_kiosk_health"], env)
        engine = create_engine(url)
        runs = text(
            "INSERT INTO job_runs (job_id, slot_at, runner, started_at, status) "
            "VALUES (:job_id, '2026-11-30 03:00:00', 'x', '2026-11-30 03:00:00', 'succeeded')"
        )
        old = ["housekeeping", "mail-outbox", "content-boundaries", "media-orphans"]
        old += ["feedback-retention", "kiosks.health-sweep", "surveys.statuses"]
        try:
            with engine.begin() as connection:
                for job_id in old:
                    connection.execute(runs, {"job_id": job_id})
            flask_cli(["db", "upgrade"], env)

            def ids() -> list[str]:
                with engine.connect() as connection:
                    return sorted(connection.execute(text("SELECT job_id FROM job_runs")).scalars())

            assert ids() == sorted(
                [
                    "core.housekeeping",
                    "mail.outbox",
                    "content.boundaries",
                    "media.orphans",
                    "feedback.retention",
                    "kiosks.health-sweep",
                    "surveys.statuses",
                ]
            )
            from cityapp.scheduler import JOBS

            assert set(ids()) <= {spec.id for spec in JOBS}
            flask_cli(["db", "downgrade", "0007_kiosk_health"], env)
            assert ids() == sorted(old)
        finally:
            engine.dispose()
