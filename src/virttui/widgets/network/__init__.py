"""Widgets of the networks room (no libvirt)."""
