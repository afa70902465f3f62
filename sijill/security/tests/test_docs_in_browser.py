"""The API docs and the admin render under their content security policy, in a real browser
(Chromium)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _load(url: str) -> tuple[str, str]:
    result = subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False)
    return result.stdout, result.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_swagger_ui_and_the_admin_render_with_no_policy_violation(live_server):
    dom, log = _load(f"{live_server.url}/api/docs")
    violations = [line for line in log.splitlines() if "Content Security Policy" in line]
    assert not violations, violations
    assert 'data-path="/api/v1/persons/{idcs}"' in dom  # the operations were rendered
    assert "cdn.jsdelivr.net" not in dom
    # The back office (Django admin) runs under the strict policy, no relaxation.
    dom, log = _load(f"{live_server.url}/admin/login/")
    violations = [line for line in log.splitlines() if "Content Security Policy" in line]
    assert not violations, violations
    assert 'name="username"' in dom


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_the_browser_reports_a_violation_when_there_is_one(tmp_path):
    """The check above can fail: an inline script under the same policy is reported."""
    from sijill.security.middleware import CSP

    page = tmp_path / "probe.html"
    page.write_text(f'<html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
                    "</head><body><script>document.title='x'</script></body></html>")
    _, log = _load(page.as_uri())
    assert any("Content Security Policy" in line for line in log.splitlines())
