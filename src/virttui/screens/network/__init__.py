"""Screens of the network room (virtual networks, their guests' NICs)."""
