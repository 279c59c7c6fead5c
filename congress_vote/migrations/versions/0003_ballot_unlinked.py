"""ballots without a link to tokens; random receipts (issue 14 hole 5)

- `ballot.token_hash` is dropped (with its foreign key and unique constraint): a ballot row no
  longer joins to the token, its batch or the time of issue;
- `poll.receipt_key` is dropped: receipts are random (already stored ones stay; without the key
  they can no longer be recomputed from a token);
- `ballot_token` becomes a WITHOUT ROWID table on SQLite (no hidden sequential rowid keeping the
  print order); on PostgreSQL its rows are rewritten in key (hash) order;
- `paper_entry.token_hash` becomes nullable and is cleared on the entries of counted paper
  ballots (agreed / superseded), so no entry ties a counted paper ballot's content to its code.

On PostgreSQL the tables that held the links are rewritten (CLUSTER), so dropped values and old
row versions do not stay in their files.

Downgrade restores the columns but not the links (they are gone): `ballot.token_hash`,
`paper_entry.token_hash` and `poll.receipt_key` come back nullable, the poll keys new random.

Revision ID: 0003
Revises: 0002
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_PAPER_COLS = "id, poll_id, token_hash, user_id, choice, invalid_reason, state, entered_at"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _rebuild_ballot_token(with_rowid: bool) -> None:
    """SQLite: copy ballot_token into a table with(out) rowid. Its children must not hold rows
    pointing at it while it is dropped (foreign keys are on), so paper entries wait aside."""
    op.execute(f"CREATE TABLE _paper_entry_keep AS SELECT {_PAPER_COLS} FROM paper_entry")
    op.execute("DELETE FROM paper_entry")
    with op.batch_alter_table('ballot_token', recreate='always',
                              table_kwargs={"sqlite_with_rowid": with_rowid}) as batch_op:
        batch_op.alter_column('state', existing_type=sa.String(length=10), nullable=False)


def _restore_paper_entries() -> None:
    op.execute(f"INSERT INTO paper_entry ({_PAPER_COLS}) SELECT {_PAPER_COLS} "
               "FROM _paper_entry_keep ORDER BY id")
    op.execute("DROP TABLE _paper_entry_keep")


def _rewrite_pg(*tables: str) -> None:
    """PostgreSQL: rewrite each table in primary-key order (drops old row versions and dropped
    column values from its files; for ballot_token, forgets the insertion = print order)."""
    for t in tables:
        op.execute(f'CLUSTER "{t}" USING pk_{t}')
        op.execute(f'ALTER TABLE "{t}" SET WITHOUT CLUSTER')


def upgrade():
    with op.batch_alter_table('ballot', schema=None, recreate='auto',
                              table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ballot_token_hash_ballot_token'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_ballot_token_hash'), type_='unique')
        batch_op.drop_column('token_hash')
    if _sqlite():
        _rebuild_ballot_token(with_rowid=False)
    with op.batch_alter_table('paper_entry', schema=None) as batch_op:
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=True)
    if _sqlite():
        _restore_paper_entries()
    op.execute("UPDATE paper_entry SET token_hash = NULL "
               "WHERE state IN ('agreed', 'superseded')")
    # Not a batch: on SQLite that would copy and drop `poll`, which every table refers to;
    # SQLite (3.35+) drops a plain column in place.
    op.drop_column('poll', 'receipt_key')
    if not _sqlite():
        _rewrite_pg('ballot', 'ballot_token', 'paper_entry', 'poll')


def downgrade():
    op.add_column('poll', sa.Column('receipt_key', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    for (pid,) in bind.execute(sa.text("SELECT id FROM poll")).all():
        bind.execute(sa.text("UPDATE poll SET receipt_key = :k WHERE id = :i"),
                     {"k": secrets.token_hex(32), "i": pid})
    if _sqlite():
        _rebuild_ballot_token(with_rowid=True)
        _restore_paper_entries()
    with op.batch_alter_table('ballot', schema=None,
                              table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ballot_token_hash_ballot_token'),
                                    'ballot_token', ['token_hash'], ['token_hash'])
        batch_op.create_unique_constraint(batch_op.f('uq_ballot_token_hash'), ['token_hash'])
