"""Screens of the networks room: the networks of a host, the create dialog."""
