"""Run calls at the same moment, for race tests on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def at_once(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released together by a barrier, and return their
    results in order. Each thread closes its database connection; an exception in a call is
    raised here once every thread has finished."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
