"""Screens of the fio room: job builder, live run, report, saved runs."""
