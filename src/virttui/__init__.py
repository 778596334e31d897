"""virttui: a terminal UI for libvirt/KVM hosts."""

__version__ = "0.1.0"
