"""HTML views: congress."""
from flask import Blueprint

bp = Blueprint("congress", __name__)
