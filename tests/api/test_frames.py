"""Who may show the page in a frame: nobody by default (clickjacking); the notebook's
server names loopback notebooks; a source that could add a CSP directive is refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from deepscope.app import create_app
from deepscope.notebook import NOTEBOOK_FRAMES
from deepscope.settings import Settings


def headers(settings: Settings) -> dict[str, str]:
    with TestClient(create_app(settings)) as client:
        return dict(client.get("/").headers)


def test_nobody_frames_the_page_by_default() -> None:
    got = headers(Settings(allowed_hosts=["testserver"], prewarm_presets=False))
    assert "frame-ancestors 'none'" in got["content-security-policy"]
    assert got["x-frame-options"] == "DENY"


def test_the_notebook_server_lets_loopback_notebooks_frame_it() -> None:
    settings = Settings(
        allowed_hosts=["testserver"], prewarm_presets=False, frame_ancestors=list(NOTEBOOK_FRAMES)
    )
    got = headers(settings)
    policy = got["content-security-policy"]
    assert "frame-ancestors http://localhost:* http://127.0.0.1:*" in policy
    assert "'none'" not in policy.split("frame-ancestors")[1].split(";")[0]
    assert "script-src 'self'" in policy  # the rest of the policy is unchanged
    assert "x-frame-options" not in got


@pytest.mark.parametrize("source", ["*", "'self'", "http://a; script-src *", "http://a b", ""])
def test_a_source_that_is_not_one_csp_source_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="frame_ancestors"):
        Settings(frame_ancestors=[source])
