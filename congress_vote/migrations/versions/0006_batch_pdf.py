"""slips PDFs kept encrypted in the database until the close (issue 14 hole 8)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batch_pdf',
    sa.Column('batch_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['issue_batch.id'],
                            name=op.f('fk_batch_pdf_batch_id_issue_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'],
                            name=op.f('fk_batch_pdf_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_batch_pdf'))
    )
    with op.batch_alter_table('batch_pdf', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_pdf_poll_id'), ['poll_id'], unique=False)


def downgrade():
    with op.batch_alter_table('batch_pdf', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_pdf_poll_id'))
    op.drop_table('batch_pdf')
