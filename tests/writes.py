"""Every SQL statement any thread sends while a block runs, to tell reads from writes.

Django's CaptureQueriesContext sees one connection, the current thread's; a socket's consumer
reads in other threads (database_sync_to_async), so this wraps the cursor of every connection.
"""

from contextlib import contextmanager

from django.db.backends import utils

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "TRUNCATE")


class Statements(list):
    def writes(self):
        """The statements that change a row, or lock one for a change (SELECT … FOR UPDATE)."""
        return [
            sql
            for sql in self
            if sql.lstrip().split(None, 1)[0].upper() in WRITES or "FOR UPDATE" in sql.upper()
        ]


@contextmanager
def statements():
    seen = Statements()
    execute, executemany = utils.CursorWrapper.execute, utils.CursorWrapper.executemany

    def counted_execute(self, sql, params=None):
        seen.append(str(sql))
        return execute(self, sql, params)

    def counted_executemany(self, sql, param_list):
        seen.append(str(sql))
        return executemany(self, sql, param_list)

    utils.CursorWrapper.execute = counted_execute
    utils.CursorWrapper.executemany = counted_executemany
    try:
        yield seen
    finally:
        utils.CursorWrapper.execute, utils.CursorWrapper.executemany = execute, executemany
