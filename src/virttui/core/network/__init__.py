"""Virtual networks and host bridges (between host and domain: may not import core.domain)."""
