"""fio panel core (issue 13): no Textual. Modules: stream (incremental parser of fio's json+
status stream), intervals (per-interval rates and latency percentiles from json+ bin deltas),
report (the final document as a report model with plain-language notes), run (fio as a job),
guard (may a job write its targets: mounted, swap, held, signatures, in use), job (the job model,
.fio INI load/save, presets, fio --parse-only)."""
