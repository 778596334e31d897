"""Virtual networks: list, lifecycle, who uses them (networks.py), create (create.py)."""
