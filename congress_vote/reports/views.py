"""HTML views: reports."""
from flask import Blueprint

bp = Blueprint("reports", __name__)
