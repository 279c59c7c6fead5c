"""sealed ballot box (issue 16): sealed ballots, encrypted shares, trackers

- `sealed_ballot` (random id, poll, ciphertext; nothing else; WITHOUT ROWID on SQLite);
- `box_share` (poll, key card, the share encrypted to the card's opening key);
- `poll_tracker` (poll, tracker): the trackers an opening found, for the board and the digest;
- `poll.seal_public`, `poll.seal_threshold`: the box's public key and threshold;
- `ballot_token.tracker`: kept until the opening, then cleared;
- `ballot.receipt` becomes nullable (the ballots opened from a box carry no receipt).

Downgrade drops the box (sealed ballots not yet opened are lost with it) and gives the opened
ballots random receipts again.

Revision ID: 0008
Revises: 0007
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sealed_ballot",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_sealed_ballot_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_ballot")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_sealed_ballot_poll_id"), "sealed_ballot", ["poll_id"], unique=False)
    op.create_table(
        "box_share",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("key_card_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_card_id"], ["key_card.id"], name=op.f("fk_box_share_key_card_id_key_card")
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_box_share_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "key_card_id", name=op.f("pk_box_share")),
    )
    op.create_table(
        "poll_tracker",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("tracker", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_poll_tracker_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "tracker", name=op.f("pk_poll_tracker")),
    )
    # Plain ADD COLUMN (no batch: on SQLite that would copy tables others refer to).
    op.add_column("poll", sa.Column("seal_public", sa.LargeBinary(length=32), nullable=True))
    op.add_column("poll", sa.Column("seal_threshold", sa.Integer(), nullable=True))
    op.add_column("ballot_token", sa.Column("tracker", sa.String(length=24), nullable=True))
    with op.batch_alter_table(
        "ballot", schema=None, recreate="auto", table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.alter_column("receipt", existing_type=sa.String(length=20), nullable=True)


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id FROM ballot WHERE receipt IS NULL")).all()
    for (bid,) in rows:
        bind.execute(
            sa.text("UPDATE ballot SET receipt = :r WHERE id = :i"),
            {"r": secrets.token_hex(4).upper(), "i": bid},
        )
    with op.batch_alter_table(
        "ballot", schema=None, recreate="auto", table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.alter_column("receipt", existing_type=sa.String(length=20), nullable=False)
    op.drop_column("ballot_token", "tracker")
    op.drop_column("poll", "seal_threshold")
    op.drop_column("poll", "seal_public")
    op.drop_table("poll_tracker")
    op.drop_table("box_share")
    op.drop_index(op.f("ix_sealed_ballot_poll_id"), table_name="sealed_ballot")
    op.drop_table("sealed_ballot")
