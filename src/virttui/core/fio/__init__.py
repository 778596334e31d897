"""fio: job model and INI files, safety guard (fioguard); stream parser and report (fiostream)."""
