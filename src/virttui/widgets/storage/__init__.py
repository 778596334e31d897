"""Widgets of the storage room: pool and volume tables."""
