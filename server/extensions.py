"""The Flask extensions, created unbound here and bound to the app inside ``create_app``."""

from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from server.db import Base

db = SQLAlchemy(model_class=Base)
socketio = SocketIO()
csrf = CSRFProtect()


def run_blocking(function, *args):
    """Run seconds of pure computation (no database session!) in a worker thread when serving on gevent, so
    that the event loop keeps answering every exam client meanwhile; otherwise simply call it."""
    if socketio.async_mode == "gevent":
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)
