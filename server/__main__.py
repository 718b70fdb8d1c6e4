"""Process entry point for the ``jikao`` command and ``python -m server``."""

from gevent import monkey

monkey.patch_all()

from server.cli import main  # noqa: E402  (must follow the monkey-patching)

if __name__ == "__main__":
    main()
