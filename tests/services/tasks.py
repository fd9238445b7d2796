"""A task for the workers of the services tests: the schedule's own task, reporting which worker
process ran it (so a test can tell that both clusters did work)."""

import os


def scheduled_sync_in(settings_id: int):
    from integration.digitalefactuur import tasks

    return os.getpid(), tasks.scheduled_sync(settings_id)
