"""What every connector's django-q2 tasks share: the name a task function is stored under.

django-q2's `async_task` takes the function itself, and every connector queues its tasks that
way (STYLE.md, 14). A `Schedule` row is different: its `func` is a dotted string in the
database. `task_path(fn)` derives that string from the function object, so that no task name
is ever written by hand: renaming or moving a task cannot leave a schedule pointing nowhere,
and an import of the function shows readers and tools what depends on what.
"""

from __future__ import annotations

from collections.abc import Callable


def task_path(fn: Callable) -> str:
    """The dotted path django-q2 stores for `fn` ("package.module.function")."""
    return f"{fn.__module__}.{fn.__qualname__}"
