"""HTML views: counting."""
from flask import Blueprint

bp = Blueprint("counting", __name__)
