"""Time the delegate-cards PDF for N delegates (default 2,000): python bench/bench_cards.py [N]."""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from congress_vote import create_app  # noqa: E402
from congress_vote.extensions import db  # noqa: E402


def main(n: int = 2000) -> None:
    tmp = tempfile.mkdtemp()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
            "SECRET_KEY": "bench",
            "TESTING": True,
        }
    )
    with app.app_context(), app.test_request_context():
        from flask_migrate import upgrade

        upgrade()
        from congress_vote.congress import printing
        from congress_vote.congress.delegates import list_delegates
        from congress_vote.congress.importing import import_delegates
        from congress_vote.congress.setup import create_congress

        c = create_congress({"name": "Đại hội Đảng bộ thử nghiệm", "kind": "members"})
        given = ["An", "Bình", "Cường", "Dũng", "Đức", "Hà", "Hương", "Lan", "Minh", "Ngọc"]
        rows = ["code,full_name,branch,membership"] + [
            f"D{i:05d},Nguyễn Văn {given[i % 10]} {i},Chi bộ số {i % 12 + 1},"
            f"{'full' if i % 17 else 'probationary'}"
            for i in range(n)
        ]
        import_delegates(c, "\n".join(rows).encode())
        db.session.commit()
        t0 = time.perf_counter()
        html = printing.cards_html(c, list_delegates(c))
        t1 = time.perf_counter()
        pdf = printing.render_many(html)
        t2 = time.perf_counter()
        out = Path(tmp) / "cards.pdf"
        out.write_bytes(pdf)
        print(
            f"{n} cards: HTML+QR {t1 - t0:.2f} s, PDF {t2 - t1:.2f} s, total {t2 - t0:.2f} s, "
            f"{len(pdf) / 1e6:.1f} MB, {len(html)} batch(es) -> {out}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
