"""What every page test checks of a rendered page: its status, no error page or template
failure in it, and its visible text (for assertions on sentences)."""
from __future__ import annotations

import re
from typing import Any

# an error page (ours marks a 500 "sanyi-error-500"), a template failure
ERROR_MARKERS = ("Internal server error", "sanyi-error-500", "UndefinedError", "Traceback",
                 "jinja2.exceptions")


def checked_body(res: Any, url: str, status: int = 200) -> str:
    """The body of ``res``, after asserting its status and that it is no error page."""
    body = res.get_data(as_text=True)
    assert res.status_code == status, f"{url}: {res.status_code}\n{body[:2000]}"
    for marker in ERROR_MARKERS:
        assert marker not in body, f"{url}: {marker}"
    return body


def page_text(html: str) -> str:
    """Visible text, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
