import logging

from server.cli import _WebSocketLeftovers


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("jikao.http", logging.ERROR, __file__, 1, message, None, None)


def test_websocket_frame_leftovers_are_not_logged_as_http_errors():
    leftovers = _WebSocketLeftovers()
    frame = "<socket>: (from ('127.0.0.1', 5)) Invalid HTTP method: '\\x81\\x8d\\x92'"
    assert not leftovers.filter(record(frame))
    assert not leftovers.filter(record("<socket>: Invalid http version: '\\x88\\x82xz'"))


def test_other_http_errors_are_still_logged():
    leftovers = _WebSocketLeftovers()
    assert leftovers.filter(record("<socket>: Invalid HTTP method: 'BREW /coffee HTTP/1.1'"))
    assert leftovers.filter(record("Traceback (most recent call last): ..."))


def test_a_frame_parsed_as_a_request_line_is_not_logged():
    message = "<socket>: Expected GET method; Got command='\\x81\\x8d\\xaf'; path='x'; raw='\\x81'"
    assert not _WebSocketLeftovers().filter(record(message))
