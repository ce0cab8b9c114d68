"""Schemathesis against /openapi.json, in process through WSGI, as the admin: no server error, and every
status an operation answers is one the document lists for it.

A bounded number of cases per operation keeps the run short (``SCHEMATHESIS_MAX_EXAMPLES``, default 8);
``derandomize`` makes a failure reproducible run after run. The operations are driven from one test with
Hypothesis directly (schemathesis' pytest plugin does not run under this pytest).
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.core.test_permission_matrix import world  # noqa: F401  objects of every kind to find

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8"))



def test_api_answers_no_server_error(app, world, as_user):  # noqa: F811
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)
    tally = {"operations": 0, "cases": 0, "server_errors": 0}
    failures: list[str] = []
    for result in api.get_all_operations():
        operation = result.ok()
        tally["operations"] += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            tally["cases"] += 1
            response = case.call(headers=as_user("demo-admin"))
            if response.status_code >= 500:
                tally["server_errors"] += 1
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # keep going: report every operation that fails
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    print(f"schemathesis: {tally}")
    assert not failures, "\n\n".join(failures)
    assert tally["server_errors"] == 0
    assert tally["operations"] >= 90 and tally["cases"] >= tally["operations"]
