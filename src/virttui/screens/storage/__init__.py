"""Screens of the storage room: pools and volumes (libvirt's storage API)."""
