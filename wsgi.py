"""WSGI entry point: gunicorn wsgi:app, flask --app wsgi ..."""

from cityapp import create_app

app = create_app()
