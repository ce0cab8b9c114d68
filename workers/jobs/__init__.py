"""Job and task functions run by the scheduler's pool or by Celery workers (inside an app context)."""
