from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from deepscope.app import create_app
from deepscope.settings import Settings


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(Settings(allowed_hosts=["testserver"]))
    with TestClient(app) as c:
        yield c
