"""hall_lists (issue 17 items 3, 7, 9): namesakes, paper disputes, long documents

- `candidate.origin_id`: the candidacy (of an earlier round) this candidate continues, so that
  rounds match candidates by a stable id, never by name (two namesakes may stand together);
- `paper_entry.code`: the printed code of a paper ballot while its entries are compared (shown
  to the committee on a dispute); cleared with `token_hash` once the ballot is counted;
- `document_job`: long documents (2,000 delegate cards) made in the background; the finished
  PDF is kept AES-GCM sealed (`sealed`), never in plain text.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_candidate_origin_id_candidate"),
            "candidate",
            ["origin_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _link_existing_rounds()
    with op.batch_alter_table("paper_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=17), nullable=True))
    op.create_table(
        "document_job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("congress_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "state in ('queued', 'running', 'done', 'failed')", name=op.f("ck_document_job_state")
        ),
        sa.ForeignKeyConstraint(
            ["congress_id"],
            ["congress.id"],
            name=op.f("fk_document_job_congress_id_congress"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_document_job_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_job")),
    )
    with op.batch_alter_table("document_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_job_congress_id"), ["congress_id"])


def _link_existing_rounds():
    """Further rounds made before this revision matched their candidates by name: link each to
    the candidacy of the round before it with the same name (the rule they were made with)."""
    conn = op.get_bind()
    polls = conn.execute(
        sa.text("SELECT id, parent_id FROM poll WHERE parent_id IS NOT NULL ORDER BY id")
    ).all()

    def key(name):
        return " ".join((name or "").split()).casefold()

    for pid, parent in polls:
        before = {}
        for cid, name, origin in conn.execute(
            sa.text("SELECT id, full_name, origin_id FROM candidate WHERE poll_id = :p"),
            {"p": parent},
        ):
            before.setdefault(key(name), origin or cid)
        for cid, name in conn.execute(
            sa.text("SELECT id, full_name FROM candidate WHERE poll_id = :p"), {"p": pid}
        ).all():
            if key(name) in before:
                conn.execute(
                    sa.text("UPDATE candidate SET origin_id = :o WHERE id = :c"),
                    {"o": before[key(name)], "c": cid},
                )


def downgrade():
    with op.batch_alter_table("document_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_job_congress_id"))
    op.drop_table("document_job")
    with op.batch_alter_table("paper_entry", schema=None) as batch_op:
        batch_op.drop_column("code")
    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_candidate_origin_id_candidate"), type_="foreignkey")
        batch_op.drop_column("origin_id")
