"""Screens of the fio panel (issue 13): the job builder, the live run, the report, saved runs."""
