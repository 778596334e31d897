"""Screens: thin layers that compose widgets, bind keys and start workers."""
