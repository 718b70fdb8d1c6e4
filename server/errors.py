"""The one kind of refusal every layer raises: a stable code for programs, a Chinese message for people."""


class ExamError(Exception):
    """A refused action: ``code`` for programs, ``message`` (Chinese) for the person at the screen."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}
