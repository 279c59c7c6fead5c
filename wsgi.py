"""What gunicorn and `flask --app wsgi` load."""

from congress_vote import create_app

app = create_app()
