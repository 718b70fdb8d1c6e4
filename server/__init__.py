"""Jikao's server: Flask app factory (``server.app.create_app``), models, views, Socket.IO events, CLI.

This package's ``__init__`` deliberately imports nothing: the process entry point (``server.__main__``)
must monkey-patch with gevent before Flask, SQLAlchemy or the standard library's threading are imported.
"""
