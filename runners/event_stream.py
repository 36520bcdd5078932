"""Server-sent events read as the WHATWG HTML standard parses them ("9.2.6 Interpreting an event stream").

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation:
- the stream is UTF-8 (one leading BOM is skipped, bad bytes become U+FFFD);
- a line ends with CRLF, LF or CR (a CR at the end of one network chunk and an LF at the start of the next are one
  line end);
- a line starting with ":" is a comment; "field: value" loses one space after the colon; a line without a colon is
  a field with an empty value;
- `data` lines of one event are joined with "\\n"; `event` names the event (default "message"); `id` (unless it holds
  NUL) and `retry` (ASCII digits only) are kept; other fields are ignored;
- a blank line dispatches the event; an event whose data buffer is empty is not dispatched; at the end of the
  stream an event without its closing blank line is discarded.

Why not httpx-sse: its public EventSource reads lines through httpx without a byte bound, so a provider sending one
endless line would be buffered whole; here every byte is counted against RUNNERS_MAX_RESPONSE_BYTES as it arrives.
"""

import codecs
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

_LINE_END = re.compile("\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


class EventStreamTooLarge(Exception):
    """More than the allowed number of bytes arrived."""


class EventStreamParser:
    """Feed it decoded text in pieces of any size; it returns the events completed so far."""

    def __init__(self) -> None:
        self._buffer = ""
        self._after_cr = False  # the previous piece ended with CR: a leading LF belongs to that line end
        self._first_line = True
        self._event_type = ""
        self._data: list[str] = []
        self._last_event_id = ""
        self._retry: int | None = None

    def feed(self, text: str) -> list[ServerSentEvent]:
        if not text:
            return []
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
        self._after_cr = text.endswith("\r")
        # Only CR and LF end lines (str.splitlines would also split on U+2028, form feeds...). A trailing CR is a
        # complete line end: an LF right after it is dropped above.
        *lines, self._buffer = _LINE_END.split(self._buffer + text)
        events = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id" and "\0" not in value:
            self._last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event_type = self._data, self._event_type
        self._data, self._event_type = [], ""
        if not data:
            return None
        return ServerSentEvent(
            event=event_type or "message", data="\n".join(data), id=self._last_event_id, retry=self._retry
        )


async def aiter_events(response: httpx.Response, *, limit: int) -> AsyncIterator[ServerSentEvent]:
    """The events of a text/event-stream response as they complete; EventStreamTooLarge past `limit` bytes.

    Each network read is bounded by the client's read timeout (httpx), so a silent provider fails between chunks,
    however long the whole stream lasts.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    parser = EventStreamParser()
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise EventStreamTooLarge
        for event in parser.feed(decoder.decode(chunk)):
            yield event
    for event in parser.feed(decoder.decode(b"", final=True)):
        yield event
