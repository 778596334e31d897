#!/usr/bin/env bash
# Start virtlogd and libvirtd when they are not running: systemctl where systemd runs, the daemons
# directly where it does not (containers, CI). Idempotent; never fails the caller when a daemon
# cannot start (virttui then offers its demo host).
set -u
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl start virtlogd.socket libvirtd.socket libvirtd.service 2>/dev/null || true
    exit 0
fi
mkdir -p /var/log/libvirt /run/libvirt
# Without udev (containers, CI) /dev/kvm can stay root:root 0600. libvirt's QEMU probe then sees
# KVM while its check for QEMU's user (group kvm) does not, so it throws the capabilities cache
# away and probes QEMU again on nearly every call (seconds each; defines queue for minutes).
# Debian's udev rule gives root:kvm 0660; do the same.
if [ -c /dev/kvm ] && getent group kvm >/dev/null && [ "$(stat -c %G /dev/kvm)" != kvm ]; then
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm || true
fi
# A daemon that was just stopped can linger as a zombie until init reaps it (seconds on some
# container inits): pgrep still lists it, yet nothing answers. Only a live process counts.
running() {
    local pid state
    for pid in $(pgrep -x "$1"); do
        state=$(ps -o stat= -p "$pid" 2>/dev/null) || continue
        case "$state" in Z* | "") ;; *) return 0 ;; esac
    done
    return 1
}
running virtlogd || virtlogd -d || true
if ! running libvirtd; then
    rm -f /run/libvirtd.pid
    libvirtd -d || { echo "libvirtd could not be started" >&2; exit 0; }
fi
# Wait until the socket answers so the next command can connect.
for _ in $(seq 1 50); do
    virsh -c qemu:///system -q version >/dev/null 2>&1 && exit 0
    sleep 0.1
done
echo "libvirtd started but qemu:///system does not answer yet" >&2
exit 0
