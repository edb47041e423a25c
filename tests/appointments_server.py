"""A real server for the concurrency test: ``gunicorn 'tests.appointments_server:create()'``.

The configuration comes from GUICHET_TEST_CONFIG (JSON), written by the test.
"""

from __future__ import annotations

import json
import os


def create():
    from portal import create_app
    from portal.models import import_all_models

    import_all_models()
    return create_app(json.loads(os.environ["GUICHET_TEST_CONFIG"]))
