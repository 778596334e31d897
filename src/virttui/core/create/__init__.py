"""The create wizard's core: OS variants, cloud-init seeds, the domain spec and its XML."""
