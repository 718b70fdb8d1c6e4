"""The Flask extensions, created unbound here and bound to the app inside ``create_app``."""

from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from server.db import Base

db = SQLAlchemy(model_class=Base)
socketio = SocketIO()
csrf = CSRFProtect()
