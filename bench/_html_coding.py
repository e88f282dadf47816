"""The coding screen as a browser and htmx drive it, for `coding_loop.py --mode html`.

A coder signs in through the login page, opens the coding page once, then submits
the span card's form as htmx 2 does when Enter is pressed: the form's controls
form-encoded in document order, `HX-Request`, `HX-Trigger`, `HX-Target` and
`HX-Current-URL`, the `X-CSRFToken` from `<body hx-headers>`, the cookies, and the
Origin and Referer the browser adds; the answer is the next card as a partial.

Pages are read with html.parser and keyed on input names (`assignment`, `token`,
the dimension keys, `csrfmiddlewaretoken`, `username`, `password`), never on CSS
classes, so attribute order, quoting and whitespace do not matter. Nothing here
imports Django at module level.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import quote, urlencode, urljoin, urlsplit

PASSWORD = "bench-coder-password-1"
SAFE = "-_.!~*'()"  # what encodeURIComponent leaves as it is
NOT_SENT = {"submit", "button", "reset", "image", "file"}  # never in a form's data
CHECKABLE = {"checkbox", "radio"}


# --- reading pages -------------------------------------------------------------------


@dataclass
class Control:
    name: str
    type: str  # an input's type; "textarea"
    value: str
    checked: bool = False
    disabled: bool = False


@dataclass
class Form:
    attrs: dict[str, str]
    controls: list[Control] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        present = {control.name for control in self.controls}
        return all(name in present for name in names)

    def value(self, name: str) -> str | None:
        """The value of the first control of that name that is not a choice."""
        for control in self.controls:
            if control.name == name and control.type not in CHECKABLE:
                return control.value
        return None

    def options(self, name: str) -> list[str]:
        """The values of the radio buttons or checkboxes of that name."""
        return [
            c.value for c in self.controls if c.name == name and c.type in CHECKABLE
        ]

    def fields(
        self,
        *,
        checked: Mapping[str, Collection[str]] | None = None,
        text: Mapping[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        """What the browser's FormData holds, in document order: checkable controls
        named in `checked` ticked as it says (others as the page left them), other
        controls with their value or the one `text` types in; no buttons (the
        coding form is sent by Enter, with no submitter)."""
        checked, text = checked or {}, text or {}
        data = []
        for control in self.controls:
            if not control.name or control.disabled or control.type in NOT_SENT:
                continue
            if control.type in CHECKABLE:
                ticked = control.checked
                if control.name in checked:
                    ticked = control.value in checked[control.name]
                if ticked:
                    data.append((control.name, control.value))
            else:
                data.append((control.name, text.get(control.name, control.value)))
        return data


@dataclass
class Page:
    forms: list[Form]
    hx_headers: dict[str, str]  # from hx-headers on <html> or <body>
    alerts: list[str]  # the text of role="alert" elements (for error messages only)
    ids: set[str]  # every element id: htmx swaps the answer's HX-Target element in

    def form_with(self, *names: str) -> Form | None:
        return next((form for form in self.forms if form.has(*names)), None)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page(forms=[], hx_headers={}, alerts=[], ids=set())
        self.form: Form | None = None
        self.textarea: Control | None = None
        self.alert: list | None = None  # [tag, depth, pieces of text]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = {name: "" if value is None else value for name, value in attrs}
        if "id" in attributes:
            self.page.ids.add(attributes["id"])
        if tag in ("html", "body") and "hx-headers" in attributes:
            self.page.hx_headers.update(json.loads(attributes["hx-headers"]))
        if self.alert is not None and tag == self.alert[0]:
            self.alert[1] += 1
        elif self.alert is None and attributes.get("role") == "alert":
            self.alert = [tag, 1, []]
        if tag == "form":
            self.form = Form(attributes)
            self.page.forms.append(self.form)
        elif self.form is not None and tag in ("input", "textarea", "button"):
            default = {"input": "text", "textarea": "textarea", "button": "submit"}
            kind = attributes.get("type", default[tag]).lower()
            if tag == "textarea":
                kind = "textarea"
            control = Control(
                name=attributes.get("name", ""),
                type=kind,
                value=attributes.get("value", "on" if kind in CHECKABLE else ""),
                checked="checked" in attributes,
                disabled="disabled" in attributes,
            )
            self.form.controls.append(control)
            if tag == "textarea":
                self.textarea = control

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "textarea" and self.textarea is not None:
            # HTML drops one newline right after <textarea>.
            self.textarea.value = self.textarea.value.removeprefix("\n")
            self.textarea = None
        if self.alert is not None and tag == self.alert[0]:
            self.alert[1] -= 1
            if self.alert[1] == 0:
                message = " ".join("".join(self.alert[2]).split())
                if message:
                    self.page.alerts.append(message)
                self.alert = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea.value += data
        if self.alert is not None:
            self.alert[2].append(data)


def read_page(html: bytes | str) -> Page:
    reader = _Reader()
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    reader.close()
    return reader.page


# --- talking HTTP --------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    seconds: float  # request sent → whole answer read


class Browser:
    """One browser tab: a keep-alive connection to 127.0.0.1 and its cookies."""

    def __init__(self, port: int) -> None:
        self.origin = f"http://127.0.0.1:{port}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> Answer:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        seconds = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or ():
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        found = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, found, payload, seconds)

    def close(self) -> None:
        self.connection.close()


class TestClientBrowser:
    """The same requests through Django's test client in this process (it keeps the
    cookies; CSRF is enforced as in production). For the cost-per-request line."""

    origin = "http://testserver"

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict | None = None
    ) -> Answer:
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/octet-stream")
        started = time.perf_counter()
        response = self.client.generic(
            method, path, body, content_type=content_type, headers=headers
        )
        seconds = time.perf_counter() - started
        found = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status_code, found, response.content, seconds)

    def close(self) -> None:
        pass


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _problem(answer: Answer) -> str:
    if answer.status >= 400:
        return f"{answer.body[:200]!r}"
    alerts = read_page(answer.body).alerts
    return "; ".join(alerts)[:300] or "no message on the page"


# --- the coder -----------------------------------------------------------------------


def give_passwords(users: list) -> None:
    """Every bench coder gets PASSWORD (one hash for all: hashing is slow on
    purpose, and signing in checks it as usual)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    encoded = make_password(PASSWORD)
    User.objects.filter(pk__in=[user.pk for user in users]).update(password=encoded)


def choose(form: Form, labels: Mapping[str, str]) -> dict[str, list[str]]:
    """Per dimension, the category the API mode posts, found among the card's."""
    picks = {}
    for dimension, category in labels.items():
        offered = form.options(dimension)
        if category not in offered:
            raise RuntimeError(
                f"the card offers {offered} for {dimension!r}, not {category!r}"
            )
        picks[dimension] = [category]
    return picks


class HtmlCoder:
    """One coder on the coding screen: sign in and open the page (`open`), then
    per turn read, press the labels' keys and Enter, and receive the next card."""

    label = "HTML"
    kinds = ("submit + next card",)  # the latencies it reports
    requests = kinds  # the ones counted as requests

    def __init__(
        self,
        browser: Browser | TestClientBrowser,
        project_id: int,
        username: str,
        labels: Mapping[str, str],
    ) -> None:
        self.browser = browser
        self.seed = username
        self.username = username
        self.labels = labels
        self.code_path = f"/projects/{project_id}/code/"
        self.page_url = browser.origin + self.code_path
        self.hx_headers: dict[str, str] = {}
        self.form: Form | None = None  # the card's coding form; None: nothing left
        self.acknowledged: list[tuple[int, str]] = []  # (assignment, token) saved

    def open(self) -> None:
        """Sign in as a browser sent to the login page by the coding page does
        (`?next=`), follow the redirect and read the first card."""
        login_url = (
            f"{self.browser.origin}/login/?{urlencode({'next': self.code_path})}"
        )
        answer = self.browser.request("GET", _path(login_url))
        if answer.status != 200:
            raise RuntimeError(f"the login page answered {answer.status}")
        form = read_page(answer.body).form_with("username", "password")
        if form is None:
            raise RuntimeError("the login page has no username and password inputs")
        typed = {"username": self.username, "password": PASSWORD}
        answer = self.browser.request(
            "POST",
            _path(urljoin(login_url, form.attrs.get("action") or login_url)),
            urlencode(form.fields(text=typed)).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.browser.origin,
                "Referer": login_url,
            },
        )
        location = _path(urljoin(login_url, answer.headers.get("location", "")))
        if answer.status != 302 or location != self.code_path:
            raise RuntimeError(
                f"signing in answered {answer.status} to {location!r}: "
                f"{_problem(answer)}"
            )
        answer = self.browser.request(
            "GET", self.code_path, headers={"Referer": login_url}
        )
        if answer.status != 200:
            raise RuntimeError(f"the coding page answered {answer.status}")
        page = read_page(answer.body)
        self.hx_headers = page.hx_headers
        if "X-CSRFToken" not in self.hx_headers:
            raise RuntimeError("the coding page sets no X-CSRFToken in hx-headers")
        self.form = page.form_with("assignment", "token")

    def htmx_headers(self, form: Form) -> dict[str, str]:
        """The headers htmx 2 sets for a request the form triggers."""
        target = form.attrs.get("hx-target", "this")
        target_id = form.attrs.get("id") if target == "this" else None
        if target.startswith("#"):
            target_id = target[1:]
        headers = {
            "HX-Request": "true",
            "HX-Trigger": form.attrs.get("id"),
            "HX-Trigger-Name": form.attrs.get("name"),
            "HX-Target": target_id,
            "HX-Current-URL": self.page_url,
            **self.hx_headers,
            "Content-Type": "application/x-www-form-urlencoded",
            # What the browser adds to the XMLHttpRequest.
            "Accept": "*/*",
            "Origin": self.browser.origin,
            "Referer": self.page_url,
        }
        return {name: value for name, value in headers.items() if value is not None}

    def turn(
        self, counting: bool, times: dict[str, list[float]], read: Callable[[], None]
    ) -> bool:
        """Read, submit, receive the next card; False when there is nothing left."""
        form = self.form
        if form is None:
            return False
        read()
        assignment, token = form.value("assignment"), form.value("token")
        data = form.fields(checked=choose(form, self.labels))
        # htmx encodes as encodeURIComponent does (spaces as %20, not +).
        body = "&".join(
            f"{quote(name, safe=SAFE)}={quote(value, safe=SAFE)}"
            for name, value in data
        )
        action = form.attrs.get("hx-post") or form.attrs.get("action") or ""
        headers = self.htmx_headers(form)
        answer = self.browser.request(
            "POST", _path(urljoin(self.page_url, action)), body.encode(), headers
        )
        if answer.status != 200:
            raise RuntimeError(f"submit answered {answer.status}: {_problem(answer)}")
        page = read_page(answer.body)
        if headers.get("HX-Target", "") not in page.ids | {""}:
            raise RuntimeError(
                f"the answer holds no #{headers['HX-Target']} to swap in"
            )
        if page.alerts:  # the card came back with the reason nothing was saved
            raise RuntimeError(f"submit refused: {'; '.join(page.alerts)[:300]}")
        card = page.form_with("assignment", "token")
        if card is not None and card.value("assignment") == assignment:
            raise RuntimeError(f"submit gave the same span back: {_problem(answer)}")
        # A card without a coding form is the "all done" one; the database check
        # after the round tells it from a failure that saved nothing.
        self.form = card
        self.acknowledged.append((int(assignment or 0), token or ""))
        if counting:
            times[self.kinds[0]].append(answer.seconds)
        return True

    def close(self) -> None:
        self.browser.close()


def unsaved(project_id: int, coders: list[HtmlCoder]) -> list[str]:
    """Submits answered with a next card that the database does not hold: no
    annotation of that assignment with that form's token."""
    from annotator.models import Annotation

    acknowledged = dict(pair for coder in coders for pair in coder.acknowledged)
    stored = dict(
        Annotation.objects.filter(
            project_id=project_id, assignment_id__in=list(acknowledged)
        ).values_list("assignment_id", "submission_token")
    )
    return [
        f"assignment {pk}: acknowledged with a new card but not stored"
        for pk, token in acknowledged.items()
        if stored.get(pk) != token
    ]
