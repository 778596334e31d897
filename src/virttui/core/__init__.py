"""Backend: libvirt, qemu-img, fio and host probes. Never imports Textual."""
