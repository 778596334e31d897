#!/usr/bin/env bash
# Build the tiny real test guest: Debian's cloud kernel plus a busybox-static initramfs.
#
#   bash scripts/build-test-guest.sh CACHE_DIR      (make guest: CACHE_DIR=/var/cache/virttui/test-guest)
#
# Result: CACHE_DIR/<kernelver>_<busyboxver>_<script>/{vmlinuz,initrd.gz,versions} and the
# symlink CACHE_DIR/current pointing at it (replaced atomically); <script> is a hash of this
# file, so a change to the guest rebuilds it. Nothing is rebuilt when the directory for the
# current candidate versions and this script exists. Needs root (apt-get download), apt lists (apt-get
# update), cpio and gzip. The guest boots with `console=tty1 console=ttyS0`, prints
# "virttui test guest ready" and keeps a root shell on ttyS0 (serial) and on tty1 (VGA).
set -euo pipefail

die() { echo "build-test-guest: $*" >&2; exit 1; }
log() { echo "build-test-guest: $*" >&2; }

[ $# -eq 1 ] || die "usage: $0 CACHE_DIR"
CACHE_DIR=$1
case $CACHE_DIR in /*) ;; *) CACHE_DIR=$PWD/$CACHE_DIR ;; esac

# Virtio disk + net + console + balloon + rng, and the ACPI power button with evdev so that a
# graceful shutdown (virDomainShutdown, ACPI) powers the guest off through busybox acpid.
# Dependencies (virtio_ring, virtio, failover, ...) are added from each module's modinfo.
WANTED_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
    virtio_blk failover net_failover virtio_net virtio_console virtio_balloon virtio_rng
    button evdev)

# Candidate versions with one apt-cache run (each run costs about a second): the metapackage's
# Depends names the versioned kernel package with an exact "(= version)".
show=$(apt-cache show --no-all-versions linux-image-cloud-amd64 busybox-static 2>/dev/null || true)
field() { # package field
    awk -v pkg="$1" -v f="$2" -F': ' \
        '/^Package: / { cur = $2 } cur == pkg && $1 == f { print substr($0, length(f) + 3); exit }' \
        <<<"$show"
}
kpkg=""
kver=""
dep=$(field linux-image-cloud-amd64 Depends | tr ',|' '\n\n' | sed -E 's/^ +//' |
    grep -E '^linux-image-[0-9][^ ]*-cloud-amd64( |$)' | head -n1 || true)
if [ -n "$dep" ]; then
    kpkg=${dep%% *}
    kver=$(sed -nE 's/.*\(= ([^)]+)\).*/\1/p' <<<"$dep")
    if [ -z "$kver" ]; then
        kver=$(apt-cache policy "$kpkg" 2>/dev/null |
            awk '/^  Candidate:/ { if ($2 != "(none)") print $2 }')
    fi
fi
bbver=$(field busybox-static Version)

if [ -z "$kpkg" ] || [ -z "$kver" ] || [ -z "$bbver" ]; then
    if [ -e "$CACHE_DIR/current/vmlinuz" ] && [ -e "$CACHE_DIR/current/initrd.gz" ]; then
        log "cannot resolve package versions (run apt-get update?); keeping $(readlink -f "$CACHE_DIR/current")"
        exit 0
    fi
    die "cannot resolve linux-image-*-cloud-amd64 / busybox-static versions: run apt-get update first"
fi

krel=${kpkg#linux-image-}
# Epochs ("1:") are dropped from the directory name; the versions file keeps the full strings.
script_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-10)
key="${krel}-${kver#*:}_busybox-${bbver#*:}_g${script_hash}"
key=${key//[^A-Za-z0-9._+-]/-}
dest="$CACHE_DIR/$key"

mkdir -p "$CACHE_DIR"
chmod 0755 "$CACHE_DIR"

# One builder at a time; a second caller waits and then finds the cache warm.
exec 9>"$CACHE_DIR/.lock"
flock 9

update_current() {
    ln -sfn "$key" "$CACHE_DIR/.current.tmp"
    mv -Tf "$CACHE_DIR/.current.tmp" "$CACHE_DIR/current"
}

# qemu runs as libvirt-qemu: every directory up to the files must be traversable by it.
check_readable() {
    local d
    d=$(readlink -f "$dest")
    while [ "$d" != / ]; do
        case $(stat -c %A "$d" | cut -c10) in x | t) ;; *)
            log "warning: $d is not traversable by other users; qemu (libvirt-qemu) may not read the guest kernel" ;;
        esac
        d=$(dirname "$d")
    done
    if id libvirt-qemu >/dev/null 2>&1; then
        runuser -u libvirt-qemu -- head -c1 "$dest/vmlinuz" >/dev/null ||
            log "warning: libvirt-qemu cannot read $dest/vmlinuz"
        runuser -u libvirt-qemu -- head -c1 "$dest/initrd.gz" >/dev/null ||
            log "warning: libvirt-qemu cannot read $dest/initrd.gz"
    fi
}

if [ -f "$dest/vmlinuz" ] && [ -f "$dest/initrd.gz" ] && [ -f "$dest/versions" ]; then
    update_current
    check_readable
    log "cached: $dest"
    exit 0
fi

command -v cpio >/dev/null || die "cpio is missing (apt-get install cpio)"
command -v gzip >/dev/null || die "gzip is missing (apt-get install gzip)"

log "building $key"
work=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- download and unpack ----------------------------------------------------------------------
mkdir "$work/debs" "$work/kernel" "$work/busybox" "$work/root" "$work/out"
(
    cd "$work/debs"
    # Sandbox user root: _apt cannot write into our 0700 temp dir (only a warning otherwise).
    apt-get -q -o APT::Sandbox::User=root download "$kpkg=$kver" "busybox-static=$bbver" >&2
)
dpkg-deb -x "$work"/debs/linux-image-*.deb "$work/kernel"
dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/busybox"

vmlinuz="$work/kernel/boot/vmlinuz-$krel"
[ -f "$vmlinuz" ] || die "no /boot/vmlinuz-$krel in $kpkg"
moddir="$work/kernel/lib/modules/$krel"
[ -d "$moddir" ] || die "no /lib/modules/$krel in $kpkg"
bb="$work/busybox/bin/busybox"
[ -x "$bb" ] || die "no /bin/busybox in busybox-static"

# ---- the initramfs tree -----------------------------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,var/log,var/run,lib/modules,usr/share/udhcpc,etc/acpi/PWRF}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
# Applet links, installed with the busybox we are packing (it is static, so it runs here).
for applet in $("$bb" --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
# Device nodes the kernel needs before devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

# Modules: module name -> file (name uses '_' where the file may use '-').
declare -A modfile=()
while IFS= read -r -d '' f; do
    base=${f##*/}
    base=${base%%.ko*}
    modfile[${base//-/_}]=$f
done < <(find "$moddir" -name '*.ko' -print0 -o -name '*.ko.xz' -print0 -o -name '*.ko.zst' -print0 -o -name '*.ko.gz' -print0)

# The .modinfo section: "depends=a,b" as a NUL-terminated string (works for any module
# after decompression, without kmod's modinfo).
decompress_module() { # src dst
    case $1 in
        *.ko) cp "$1" "$2" ;;
        *.ko.xz) xz -dc "$1" >"$2" ;;
        *.ko.zst) zstd -qdc "$1" >"$2" ;;
        *.ko.gz) gzip -dc "$1" >"$2" ;;
    esac
}
declare -A visited=()
load_order=()
add_module() { # name: depth-first, dependencies first
    local name=$1 src dst dep deps
    [ -n "${visited[$name]:-}" ] && return 0
    visited[$name]=1
    src=${modfile[$name]:-}
    if [ -z "$src" ]; then
        # Built into this kernel (or absent: virtio_pci_legacy_dev is optional).
        if grep -qE "/$name\.ko" "$moddir/modules.builtin" 2>/dev/null; then return 0; fi
        log "module $name not found in $kpkg, skipped"
        return 0
    fi
    dst="$root/lib/modules/$name.ko"
    decompress_module "$src" "$dst"
    deps=$(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p')
    deps=${deps%%$'\n'*}
    for dep in ${deps//,/ }; do
        add_module "${dep//-/_}"
    done
    load_order+=("$name")
}
for m in "${WANTED_MODULES[@]}"; do add_module "$m"; done
printf '%s\n' "${load_order[@]}" >"$root/lib/modules/load-order"

cat >"$root/init" <<'EOF'
#!/bin/sh
# virttui test guest: PID 1 sets the system up, then hands over to busybox init (/etc/inittab),
# which keeps a root shell on ttyS0 and on tty1 (respawned) and handles poweroff/reboot.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
hostname virttui-guest
while read -r m; do
    insmod "/lib/modules/$m.ko" || echo "virttui-guest: insmod $m failed"
done </lib/modules/load-order
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
    ip link set eth0 up
    udhcpc -i eth0 -b -q -t 10 -s /usr/share/udhcpc/default.script >/dev/null 2>&1
fi
acpid
# acpid forks before it opens the input devices: until it holds the power button's one, an
# ACPI shutdown pressed right after "ready" goes unheard and the guest never powers off (a
# loaded CI host lost one). Wait for it, 10 s at most.
n=0
while [ $n -lt 100 ]; do
    held=
    for fd in /proc/$(pidof acpid)/fd/*; do
        case $(readlink "$fd") in /dev/input/event*) held=1 ;; esac
    done
    [ -n "$held" ] && break
    sleep 0.1
    n=$((n + 1))
done
[ -n "$held" ] || echo "virttui-guest: acpid holds no input device; ACPI shutdown may go unheard"
# Only warnings and worse from the kernel from now on: keep the shells' output clean.
echo 4 >/proc/sys/kernel/printk
echo "virttui test guest ready" >/dev/tty1
echo "virttui test guest ready"
exec /sbin/init
EOF
chmod 0755 "$root/init"

cat >"$root/etc/inittab" <<'EOF'
ttyS0::respawn:-/bin/sh
tty1::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sync
EOF

cat >"$root/etc/profile" <<'EOF'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root
export TERM=${TERM:-linux}
PS1='\h:\w# '
cd /root
EOF

# Power button (ACPI shutdown from libvirt) -> clean poweroff via busybox init.
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
exec /sbin/poweroff
EOF
chmod 0755 "$root/etc/acpi/PWRF/00000080"

cat >"$root/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
case $1 in
    deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        : >/etc/resolv.conf
        for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
        ;;
esac
exit 0
EOF
chmod 0755 "$root/usr/share/udhcpc/default.script"

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"
printf 'virttui-guest\n' >"$root/etc/hostname"

# ---- pack -------------------------------------------------------------------------------------
# Fixed mtimes, sorted names, zeroed inode numbers: the same packages give the same initrd.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --quiet --reproducible -R 0:0) |
    gzip -9n >"$work/out/initrd.gz"
cp "$vmlinuz" "$work/out/vmlinuz"
{
    echo "kernel_package=$kpkg"
    echo "kernel_version=$kver"
    echo "kernel_release=$krel"
    echo "busybox_version=$bbver"
    echo "modules=${load_order[*]}"
    echo "cmdline=console=tty1 console=ttyS0"
} >"$work/out/versions"
chmod 0644 "$work/out"/*
chmod 0755 "$work/out"

rm -rf "$dest"
mv -T "$work/out" "$dest"
update_current
check_readable
log "built $dest ($(du -h "$dest/initrd.gz" | cut -f1) initrd, modules: ${load_order[*]})"
