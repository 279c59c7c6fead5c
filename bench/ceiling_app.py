"""The ceiling: a minimal Flask + Flask-SQLAlchemy + Flask-WTF app doing what a kiosk vote does.

The same three steps as the product's ballot page, with pages of the same build (a base layout,
a ballot layout, the same form fields: one checkbox row per candidate, the hidden CSRF field and
meta tag; the bench prints both pages' sizes side by side), and one INSERT committed per vote:

* ``GET /b/<code>``: the ballot page (a FlaskForm with CSRF: the token in the page, the session
  cookie set);
* ``POST /b/<code>`` ``step=review``: the form validated (CSRF included), the confirmation page;
* ``POST /b/<code>`` ``step=cast``: validated again, one row INSERTed and committed, the receipt
  page.

And ``POST /api/v1/ballot/<token>`` (JSON ``{"kept": [...]}``, CSRF-exempt like the product's):
one INSERT, ``201 {"receipt": ...}`` — the ceiling of the API cast.

Nothing is read from the database (the candidates are constants): this is the least such an app
can do. SQLite gets the product's pragmas (WAL, synchronous=NORMAL, busy_timeout=30000,
foreign_keys) and ``BEGIN IMMEDIATE`` for writes, like congress_vote/db.py (without its write
queue). gunicorn loads ``bench.ceiling_app:app`` with CEILING_DB=<SQLAlchemy URL>;
``python bench/ceiling_app.py init|count`` creates the table / counts its rows.
"""

import json
import os
import secrets
import sys

from flask import Flask, has_request_context, jsonify, render_template, request
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect, FlaskForm
from jinja2 import DictLoader
from sqlalchemy import String, Text, event
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField, SelectMultipleField

DB_URL = os.environ.get("CEILING_DB", "sqlite:////tmp/cvbench-ceiling.db")
IS_SQLITE = DB_URL.startswith("sqlite")
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)
CANDIDATES = [(i, f"Nguyễn Văn Ứng Cử {i}", "Ủy viên") for i in range(1, 12)]
SEATS = 9

TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="vi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="csrf-token" content="{{ csrf_token() }}">
  <title>{% block title %}Bầu cử đại hội{% endblock %}</title>
  <link rel="stylesheet" href="{{ url_for('static', filename='css/app.css') }}">
  <link rel="stylesheet" href="{{ url_for('static', filename='css/ballot.css') }}">
</head>
<body class="voter">
<header class="voterbar">
  <span class="brand">Bầu cử đại hội</span>
  <span class="lang"><a href="/lang/vi" aria-current="true">Tiếng Việt</a>
  <a href="/lang/en">English</a></span>
</header>
<main class="voter-main">
{% block content %}{% endblock %}
</main>
{% block scripts %}{% endblock %}
</body>
</html>""",
    "ballot.html": """{% extends "base.html" %}
{% block title %}Phiếu bầu{% endblock %}
{% block content %}
<div class="ballot-head"><p class="ballot-kind">Bỏ phiếu kín</p><h1>{{ title }}</h1></div>
<form method="post" action="{{ request.path }}" autocomplete="off" class="ballot-form"
  data-ballot data-limit="{{ seats }}" data-kind="committee" data-agree="no">
  {{ form.csrf_token }}
  <input type="hidden" name="step" value="review">
  <p class="instructions">Chạm vào tên để gạch. Những tên còn lại là phiếu bầu của bạn:
    giữ lại nhiều nhất {{ seats }} tên.</p>
  <ol class="names strike-list">
  {% for id, name, position in candidates %}
    <li><label class="name-row strike-row{% if id in struck %} struck{% endif %}">
      <input type="checkbox" class="strike-box" name="struck" value="{{ id }}"
        {% if id in struck %}checked{% endif %}>
      <span class="order">{{ loop.index }}</span>
      <span class="name"><b>{{ name }}</b><small>{{ position }}</small></span>
      <span class="strike-hint" aria-hidden="true">Gạch tên</span>
    </label></li>
  {% endfor %}
  </ol>
  <div class="ballot-bar">
    <p class="tally" data-tally aria-live="polite">Giữ lại <b data-kept>
      {{ candidates|length - struck|length }}</b> trên <b>{{ seats }}</b></p>
    <p class="overvote{% if not error %} hidden{% endif %}" data-overvote role="alert">
      Giữ quá số tên: chỉ được giữ nhiều nhất {{ seats }} tên. Hãy gạch thêm.</p>
    <button class="primary big" type="submit" data-review>Xem lại phiếu</button>
  </div>
</form>
{% endblock %}
{% block scripts %}<script src="{{ url_for('static', filename='js/ballot-vote.js') }}" defer>
</script>{% endblock %}""",
    "confirm.html": """{% extends "base.html" %}
{% block title %}Kiểm tra phiếu{% endblock %}
{% block content %}
<div class="ballot-head"><p class="ballot-kind">Bỏ phiếu kín</p><h1>{{ title }}</h1></div>
<h2 class="confirm-title">Kiểm tra phiếu của bạn, rồi bỏ phiếu</h2>
<form method="post" action="{{ request.path }}" autocomplete="off" class="confirm-form">
  {{ form.csrf_token }}
  <p class="lead">Bạn giữ lại {{ candidates|length - struck|length }} trên nhiều nhất
    {{ seats }} tên:</p>
  <ol class="summary">
  {% for id, name, position in candidates %}
    <li class="{{ 'struck' if id in struck else 'kept' }}"><span class="name">{{ name }}</span>
      <b class="answer-tag">{{ 'Đã gạch' if id in struck else 'Giữ lại' }}</b>
      {% if id in struck %}<input type="hidden" name="struck" value="{{ id }}">{% endif %}</li>
  {% endfor %}
  </ol>
  <div class="actions confirm-actions">
    <button class="big" type="submit" name="step" value="edit">Sửa lại</button>
    <button class="primary big" type="submit" name="step" value="cast">Bỏ phiếu</button>
  </div>
</form>
{% endblock %}""",
    "receipt.html": """{% extends "base.html" %}
{% block title %}Đã bỏ phiếu{% endblock %}
{% block content %}
<section class="receipt">
  <h1>Phiếu của bạn đã được bỏ</h1>
  <p class="lead">Mã biên nhận của bạn:</p>
  <p class="receipt-code">{{ receipt }}</p>
  <p class="muted">Khi kiểm phiếu xong, mã này có trong danh sách biên nhận công khai của cuộc
    bầu. Mã không cho biết bạn đã bầu thế nào.</p>
  <p class="return">Xin trả lại máy tính bảng.</p>
  <p><a class="button big" href="/kiosk/1">Người bầu tiếp theo</a></p>
</section>
{% endblock %}""",
}


class BallotForm(FlaskForm):
    step = HiddenField()
    struck = SelectMultipleField(coerce=int, choices=[(c[0], c[1]) for c in CANDIDATES])


def make_app() -> Flask:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, static_folder=os.path.join(root, "static"))
    app.config["SQLALCHEMY_DATABASE_URI"] = DB_URL
    app.config["SECRET_KEY"] = "bench-ceiling-secret"
    app.jinja_loader = DictLoader(TEMPLATES)
    db = SQLAlchemy(app)
    csrf = CSRFProtect(app)

    class BenchVote(db.Model):  # type: ignore[name-defined]
        __tablename__ = "bench_vote"
        id: Mapped[str] = mapped_column(String(32), primary_key=True)
        poll_id: Mapped[int]
        choice: Mapped[str] = mapped_column(Text)
        receipt: Mapped[str] = mapped_column(String(20))

    app.extensions["bench_model"] = BenchVote
    if IS_SQLITE:
        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            for p in PRAGMAS:
                dbapi_connection.execute(p)

        @event.listens_for(engine, "begin")
        def _begin(conn):
            write = has_request_context() and request.method == "POST"
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    def insert(kept: list[int]) -> str:
        receipt = secrets.token_hex(5)
        choice = json.dumps({"kept": sorted(kept)}, separators=(",", ":"))
        db.session.add(
            BenchVote(id=secrets.token_hex(16), poll_id=1, choice=choice, receipt=receipt)
        )
        db.session.commit()
        return receipt

    page = {"title": "Bầu Ban Chấp hành (11 ứng cử viên)", "seats": SEATS, "candidates": CANDIDATES}

    @app.route("/b/<code>", methods=["GET", "POST"])
    def ballot(code):
        form = BallotForm()
        if request.method == "GET":
            return render_template("ballot.html", form=form, struck=set(), error=None, **page)
        if not form.validate_on_submit():
            return render_template("ballot.html", form=form, struck=set(), error="bad", **page), 400
        struck = set(form.struck.data or [])
        kept = [c[0] for c in CANDIDATES if c[0] not in struck]
        if len(kept) > SEATS:
            return render_template("ballot.html", form=form, struck=struck, error=1, **page), 422
        if form.step.data != "cast":
            return render_template("confirm.html", form=form, struck=struck, **page)
        return render_template("receipt.html", receipt=insert(kept))

    @app.post("/api/v1/ballot/<token>")
    @csrf.exempt
    def api_cast(token):
        body = request.get_json()
        receipt = insert(list(body.get("kept", [])))
        return jsonify(receipt=receipt), 201

    return app


app = make_app()


def init_db() -> None:
    with app.app_context():
        app.extensions["sqlalchemy"].create_all()


def count_rows() -> int:
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        return db.session.query(app.extensions["bench_model"]).count()


if __name__ == "__main__":
    if sys.argv[1:] == ["init"]:
        init_db()
    elif sys.argv[1:] == ["count"]:
        print(count_rows())
