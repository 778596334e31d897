# The two README commands: `make run` and `make test`. Every target is idempotent.
# openssh-server: the qemu+ssh tests start their own sshd on 127.0.0.1 (they skip without it).
# lvm2, fdisk: the fio guard's tests build an LVM physical volume and a partition table on loop devices.
# dnsmasq-base: libvirt's DHCP/DNS for virtual networks (not pulled in without recommends).
# virtinst: virt-install, the reference the create tests compare against (the product never
# runs it). libvirt0: libvirt's RelaxNG schemas (/usr/share/libvirt/schemas) the create XML is
# validated against. osinfo-db: the create wizard's OS variants (core/create/osinfo.py).
# ovmf, swtpm, swtpm-tools: UEFI firmware and the emulated TPM libvirt offers to created domains.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
APT_PACKAGES := libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients libvirt-dev \
	pkg-config gcc qemu-utils qemu-system-x86 fio cpio gzip python3-venv \
	openssh-server dnsmasq-base lvm2 fdisk ovmf swtpm swtpm-tools \
	osinfo-db virtinst libvirt0
GUEST_CACHE ?= /var/cache/virttui/test-guest

.PHONY: run test deps venv daemons guest lint bench snapshots clean

run: deps venv daemons
	$(VENV)/bin/virttui $(ARGS)

# The contracts (lint) run first: a broken one fails the build before any test starts.
test: deps venv lint daemons guest
	VIRTTUI_GUEST_DIR=$(GUEST_CACHE)/current $(VPY) -m pytest -q $(PYTEST_ARGS)

# apt-get only what is missing, so a warm machine pays nothing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "apt-get install:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

daemons:
	@bash scripts/ensure-libvirtd.sh

guest: deps
	@bash scripts/build-test-guest.sh $(GUEST_CACHE)

# Style (ruff), architecture (import-linter: [tool.importlinter] in pyproject.toml) and types
# (mypy --strict over src: [tool.mypy]). Each one that fails fails the target.
lint: venv
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/mypy

bench: deps venv daemons
	$(VPY) benchmarks/run_all.py
	$(VPY) benchmarks/image_dir.py

# Regenerate the SVG snapshots after a deliberate UI change and copy them into screenshots/.
snapshots: venv
	$(VPY) -m pytest -q -k snapshot --snapshot-update tests || true
	$(VPY) scripts/export_screenshots.py

clean:
	rm -rf $(VENV) dist build
