# Copy to instance/config.py and edit. Environment variables override these values.
# SECRET_KEY = "a long random string"            # required in production
# DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/congress"
# PUBLIC_BASE_URL = "http://192.168.1.10:8000"    # the hall's LAN address, printed into QR codes
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379"  # share rate limits across gunicorn workers
