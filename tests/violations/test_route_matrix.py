"""The permission matrix of tests/core, walked over the routes of violations, notices and regulators only.

The full matrix covers every route of the app; this runs the same expectations (the literal tables and the
``world`` of tests/core/test_permission_matrix.py) on this feature's routes, so a change here is checked even
while other features' routes are being built.
"""

from __future__ import annotations

from backend.permissions import rule_of
from tests.core.test_permission_matrix import ACTORS, DENIED, _expected, _headers, world  # noqa: F401

BLUEPRINTS = ("violations.", "notices.", "regulators.")


def _routes(app):
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint.startswith(BLUEPRINTS):
            declared = rule_of(app.view_functions[url_rule.endpoint])
            for method in sorted(url_rule.methods - {"HEAD", "OPTIONS"}):
                yield url_rule, method, declared


def test_feature_route_matrix(app, client, world, as_user):  # noqa: F811
    checked, failures = 0, []
    for actor in ACTORS:  # one world for every actor: building it is the slow part
        headers = _headers(as_user, actor)
        for url_rule, method, declared in _routes(app):
            assert declared is not None, url_rule.endpoint
            for school_key in (("own", "other", "outside") if declared.scope else (None,)):
                values = world[school_key or "own"]
                url = url_rule.build({arg: values[arg] for arg in url_rule.arguments}, append_unknown=False)[1]
                response = client.open(url, method=method, json={}, headers=headers)
                allowed = _expected(declared.action, actor, school_key)
                checked += 1
                if allowed and response.status_code in (401, 403):
                    failures.append(f"{actor} refused {method} {url} ({school_key}): {response.status_code}")
                if not allowed and response.status_code not in DENIED:
                    failures.append(f"{actor} was answered {response.status_code} by {method} {url} ({school_key})")
                if response.status_code >= 500:
                    failures.append(f"{actor}: {method} {url} answered {response.status_code}")
                if response.status_code in DENIED:
                    assert set(response.json["error"]) == {"code", "message", "details"}
    assert failures == []
    assert checked >= 8 * 60
