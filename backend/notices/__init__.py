"""Notices: the outbox and in-app inbox, WeChat subscribe messages and their quotas, and the push endpoint.

The violations services write the notices of every violation transition (creation included) by calling
:mod:`backend.notices.violation_notices` inside the transaction that makes the change.
"""
