"""Alembic environment: runs inside the Flask app (Flask-Migrate), batch mode for SQLite."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from cityapp.db import UTCDateTime

config = context.config
if config.config_file_name and not current_app.testing:
    # `flask db ...` on the command line: show alembic's progress lines ("Running upgrade").
    # Tests run the migrations in-process and keep their own logging untouched.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_engine():
    return target_db.engine


def render_item(type_, obj, autogen_context):
    """Write our UTC column type as a plain timezone-aware DateTime, so migration files do
    not import application code that may change later."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline():
    url = get_engine().url.render_as_string(hide_password=False)
    context.configure(
        url=url,
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("render_item", render_item)

    with get_engine().connect() as connection:
        if connection.dialect.name == "sqlite":
            _run_sqlite_migrations(connection, conf_args)
            return
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


def _run_sqlite_migrations(connection, conf_args):
    """SQLite: all migrations in one transaction, with foreign keys off while they run.

    Batch mode rebuilds a table by copy, DROP and rename. With foreign keys on (our engine
    turns them on for every connection), that DROP is an implicit DELETE that fires ON DELETE
    CASCADE / SET NULL in the child tables: rebuilding staff_users would silently delete every
    API token. The pragma only works outside a transaction, so it is set on the raw driver
    connection before alembic begins; the constraints are checked once at the end, before
    commit, and a violation rolls the whole upgrade back.
    """
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            transactional_ddl=True,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()
            violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise RuntimeError(f"migration left foreign key violations: {violations[:10]}")
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
