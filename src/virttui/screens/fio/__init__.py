"""The fio panel's screens (issue 13): the job form, the live run, the report, saved runs."""
