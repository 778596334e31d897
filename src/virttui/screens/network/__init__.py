"""Screens of virtual networks (issue 11)."""
