"""The create wizard's core: the answers (spec), their XML, virt-install line, osinfo, cloud-init."""
