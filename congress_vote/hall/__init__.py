"""The hall on one laptop: `flask --app wsgi hall` serves the app with gunicorn over HTTPS on the
laptop's LAN address, on SQLite, with a local certificate authority made on first run (tls.py),
and a page that shows a tablet how to trust it (views.py)."""
