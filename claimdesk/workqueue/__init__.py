"""The work queue: the table of review kinds, lists, next task, the task page, resolve, apply."""
