"""Entry point: ``python -m workers scheduler | worker | jobs | run JOB`` (the commands: workers/infra/cli.py)."""

from workers.infra.cli import main

if __name__ == "__main__":
    main()
