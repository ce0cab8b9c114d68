"""The job infrastructure: the worker app, the schedule list, the scheduler, the executors (threads, Celery)."""
