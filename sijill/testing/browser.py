"""The browser tests' shared setup: Playwright driving Debian's Chromium (no browser download),
a page that records content-security-policy violations, and screenshots kept as artefacts in
var/artefacts/<app>/ (ignored by git; CI may upload them)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def artefacts_dir(app: str) -> Path:
    return Path(settings.BASE_DIR) / "var" / "artefacts" / app


@contextmanager
def chromium_page(**context_options: Any) -> Iterator[Any]:
    """A fresh page in Arabic (Morocco) unless told otherwise; page.csp_violations lists the
    console's content-security-policy reports. The caller sets DJANGO_ALLOW_ASYNC_UNSAFE:
    Playwright's sync API runs an event loop in the test's thread, and the test's own ORM calls
    are plain synchronous calls between browser steps."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(**{"locale": "ar-MA", **context_options})
        page = context.new_page()
        recorded = cast(Any, page)  # csp_violations is ours, not an attribute Playwright declares
        recorded.csp_violations = []

        def record(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                recorded.csp_violations.append(message.text)

        page.on("console", record)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def screenshot(page: Any, directory: Path, name: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
