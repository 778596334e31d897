"""Virtual networks of a host (issue 11): leases and reservations, list/lifecycle/create."""
