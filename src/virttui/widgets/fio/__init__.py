"""Widgets of the fio room (no libvirt)."""
