"""Benchmark: render N ballot slips (default 2,000) and check a page decodes.

Usage: .venv/bin/python bench/bench_slips.py [N]
"""

import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from congress_vote import codes, create_app


def main(n: int = 2000) -> None:
    tmp = tempfile.mkdtemp()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.db",
            "SECRET_KEY": "x",
            "PUBLIC_BASE_URL": "http://192.168.1.10:5000",
        }
    )
    from congress_vote.ballots import slips
    from congress_vote.extensions import db

    poll = SimpleNamespace(
        title="Bầu Ban Chấp hành Đảng bộ nhiệm kỳ 2025–2030",
        round=1,
        kind="committee",
        congress_id=1,
        setup_fingerprint="ab" * 32,
    )
    congress = SimpleNamespace(organisation="Đảng bộ Sở Y tế", name="Đại hội đại biểu lần thứ X")
    with app.test_request_context():
        db.session.get = lambda *_a, **_k: congress  # no database needed for the layout
        plain = [codes.new_code() for _ in range(n)]
        t = time.perf_counter()
        pdf = slips.render_slips(poll, plain)
        print(f"{n} slips: {time.perf_counter() - t:.2f} s, {len(pdf) / 1e6:.2f} MB")
        out = f"{tmp}/slips.pdf"
        Path(out).write_bytes(pdf)
        print(out)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
