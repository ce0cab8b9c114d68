"""Celery on Redis: one generic task that runs a named task of ``workers.infra.executor.TASKS``.

Messages are acknowledged late (after the task returned) and rejected when the worker process dies, so a
worker killed mid-task has its task redelivered; the tasks themselves make a redo create nothing twice.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

TASK_NAME = "kitchen.run"
QUEUE = "kitchen"

celery = Celery("kitchen")


def configure(broker_url: str, visibility_timeout: int | None = None) -> Celery:
    """Point the Celery app at ``broker_url`` with the delivery guarantees the tasks rely on."""
    if visibility_timeout is None:
        from workers.infra.worker_app import config_value

        visibility_timeout = int(config_value("CELERY_VISIBILITY_TIMEOUT") or 300)
    celery.conf.update(
        broker_url=broker_url,
        broker_connection_retry_on_startup=True,
        # Redis re-delivers an unacknowledged message once this many seconds passed: longer than any task.
        # and sweep for such messages often enough that a dead worker's task comes back soon after.
        broker_transport_options={"visibility_timeout": visibility_timeout,
                                  "unacked_restore_interval": max(1, min(10, visibility_timeout // 3)),
                                  "unacked_restore_throttle": 1},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        task_ignore_result=True,
        result_backend=None,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
        timezone="Asia/Shanghai",
        enable_utc=True,
    )
    return celery


@celery.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
def run(task: str, args: list[Any]) -> Any:
    """Run a named task in this worker's app context."""
    from workers.infra.executor import run_task

    result = run_task(task, args)
    return result if isinstance(result, str | int | float | type(None)) else None
