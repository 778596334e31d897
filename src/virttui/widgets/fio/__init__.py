"""fio panel widgets (issue 13): the job form."""
