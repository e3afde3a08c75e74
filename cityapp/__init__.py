"""cityapp: the backend a municipality runs to reach its residents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from cityapp.db import configure_engine, db, include_in_migrations, set_sqlite_begin_mode
from cityapp.extensions import api, csrf, limiter, login_manager, migrate, rate_limit_headers
from config import Config, get_config


def create_app(config: str | type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` is a config name, a config class, or overrides on top of the
    class chosen by CITYAPP_ENV."""
    app = Flask(__name__, instance_relative_config=False)
    load_config(app, config)
    register_extensions(app)
    register_receivers(app)
    register_blueprints(app)
    register_errors(app)
    register_commands(app)
    configure_logging(app)
    return app


def load_config(app: Flask, config: str | type[Config] | Mapping[str, Any] | None) -> None:
    if isinstance(config, Mapping):
        app.config.from_object(get_config(config.get("ENV_NAME")))
        app.config.update(config)
    elif isinstance(config, type):
        config.init()
        app.config.from_object(config)
    else:
        app.config.from_object(get_config(config))
    if app.config.get("REDIS_URL") and "RATELIMIT_STORAGE_URI" not in app.config:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    if app.config["ENV_NAME"] == "production" and not app.config.get("REDIS_URL"):
        import logging

        logging.getLogger("cityapp").warning(
            "REDIS_URL is not set: rate limits are counted per worker process, so with N "
            "gunicorn workers a client gets N times the configured limit"
        )
    uri = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    if uri.startswith("postgresql") and app.config["CITYAPP_DB_PING_AFTER_IDLE_S"] > 0:
        # cityapp.db.configure_engine pings idle connections itself (one round trip less).
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_pre_ping": False,
        }
    from cityapp.openapi import SPEC_OPTIONS

    app.config["API_SPEC_OPTIONS"] = {**SPEC_OPTIONS, **app.config.get("API_SPEC_OPTIONS", {})}
    proxies = {
        "x_for": app.config["CITYAPP_PROXY_FIX_X_FOR"],
        "x_proto": app.config["CITYAPP_PROXY_FIX_X_PROTO"],
        "x_host": app.config["CITYAPP_PROXY_FIX_X_HOST"],
    }
    if any(proxies.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **proxies)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    from cityapp.auth.permissions import register_auth
    from cityapp.http import register_http
    from cityapp.http.checks import assign_request_id
    from cityapp.kiosks.device_auth import register_device_auth
    from cityapp.models import MODELS

    # The request id comes first, so even an early 429 or 401 carries it.
    app.before_request(assign_request_id)
    db.init_app(app)
    with app.app_context():
        configure_engine(
            db.engine,
            app.config["SQLITE_BUSY_TIMEOUT_MS"],
            ping_after_idle_s=app.config["CITYAPP_DB_PING_AFTER_IDLE_S"],
        )
    migrate.init_app(
        app,
        db,
        directory=app.config["MIGRATIONS_DIR"],
        render_as_batch=True,
        compare_type=True,
        include_name=include_in_migrations,
    )
    # Every table Alembic compares against (autogenerate, the models-vs-migrations test).
    app.extensions["cityapp.models"] = MODELS
    login_manager.init_app(app)
    login_manager.login_view = "staff_pages.login_form"
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    limiter.init_app(app)
    app.after_request(rate_limit_headers)
    api.init_app(app)

    @app.before_request
    def _choose_sqlite_begin_mode() -> None:
        # Writes queue for the lock up front; reads never wait (see cityapp.db).
        g._sqlite_mode_token = set_sqlite_begin_mode(
            "DEFERRED" if request.method in ("GET", "HEAD", "OPTIONS") else "IMMEDIATE"
        )

    register_http(app)
    register_auth(app)
    register_device_auth(app)


def register_receivers(app: Flask) -> None:
    """Connect the reactions between packages: signal receivers (cityapp.signals) and the
    checks that keep a media file alive while something still shows it."""
    from cityapp.content.service.areas import retarget_area_announcements
    from cityapp.content.service.images import news_uses_media
    from cityapp.feedback.service.participation import count_out_installation_support
    from cityapp.feedback.service.retention import is_used_by_report_photos
    from cityapp.kiosks.service.manifest import on_content_changed, on_survey_changed
    from cityapp.media.service import register_media_file_cleanup, register_media_reference
    from cityapp.signals import (
        content_changed,
        district_areas_changed,
        installation_deleting,
        survey_changed,
    )

    # Blinker keeps one connection per receiver, so a second app in the process adds none.
    content_changed.connect(on_content_changed)
    survey_changed.connect(on_survey_changed)
    district_areas_changed.connect(retarget_area_announcements)
    installation_deleting.connect(count_out_installation_support)
    register_media_reference(news_uses_media)
    register_media_reference(is_used_by_report_photos)
    register_media_file_cleanup()


def register_blueprints(app: Flask) -> None:
    from cityapp import apidocs, health
    from cityapp.auth import api as auth_api
    from cityapp.auth import views as auth_views
    from cityapp.content import api as content_api
    from cityapp.content import feeds
    from cityapp.content import staff_api as content_staff_api
    from cityapp.feedback import api as feedback_api
    from cityapp.feedback import staff_api as feedback_staff_api
    from cityapp.feedback.open311 import views as open311_views
    from cityapp.kiosks import device_api as kiosk_device_api
    from cityapp.kiosks import fleet_api as kiosk_fleet_api
    from cityapp.kiosks import player_views
    from cityapp.kiosks import staff_api as kiosk_staff_api
    from cityapp.media import staff_api as media_staff_api
    from cityapp.media import views as media_views
    from cityapp.places import api as places_api
    from cityapp.places import staff_api as places_staff_api
    from cityapp.surveys import api as surveys_api
    from cityapp.surveys import staff_api as surveys_staff_api

    api.register_blueprint(auth_api.blp)
    api.register_blueprint(places_api.blp)
    api.register_blueprint(places_staff_api.blp)
    api.register_blueprint(media_staff_api.blp)
    api.register_blueprint(content_api.blp)
    api.register_blueprint(content_staff_api.blp)
    api.register_blueprint(surveys_api.blp)
    api.register_blueprint(surveys_staff_api.blp)
    api.register_blueprint(feedback_api.blp)
    api.register_blueprint(feedback_staff_api.blp)
    api.register_blueprint(kiosk_device_api.blp)
    api.register_blueprint(kiosk_staff_api.blp)
    api.register_blueprint(kiosk_fleet_api.blp)
    app.register_blueprint(open311_views.bp)
    app.register_blueprint(media_views.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(player_views.bp)
    app.register_blueprint(apidocs.bp)


def register_errors(app: Flask) -> None:
    """One error shape per surface, chosen by path: problem+json for /api/ (the default),
    HTML for staff pages, the Open311 error list under /open311/."""
    from cityapp.errors import register_errors as install
    from cityapp.errors import register_surface
    from cityapp.feedback.open311.render import render_open311_error

    install(app)
    register_surface(app, "/open311/", "open311", render_open311_error)


def register_commands(app: Flask) -> None:
    from cityapp.cli import register_commands as install

    install(app)


def configure_logging(app: Flask) -> None:
    from cityapp.logs import configure_logging as install

    install(app)
