#!/bin/sh
# A real libvirtd test host, alone in its own network and mount namespaces, for the multi-host
# integration tests (README, "Many hosts"). Root only; for tests only: it listens on TCP with
# auth_tcp = "none", on an address of a namespace this script creates, and nowhere else.
#
#   libvirt-test-host.sh start N FOLDER [--without-emulator qemu-system-x86_64]...
#       Starts host N (1..200): namespace dmah-hN, a veth pair dmahN-o (this side, 10.251.N.1/24)
#       and dmahN-i (inside, 10.251.N.2/24), and libvirtd inside with private /run/libvirt,
#       /var/lib/libvirt and /etc/libvirt made from FOLDER. Each --without-emulator hides that
#       QEMU binary from this host's libvirtd, so the host lacks the arch. Prints the host's URI,
#       qemu+tcp://10.251.N.2/system, once libvirtd answers.
#   libvirt-test-host.sh kill N     SIGKILLs host N's libvirtd (a host lost mid-run); its QEMUs live on.
#   libvirt-test-host.sh cut N      takes this side of host N's veth pair down (its network cut).
#   libvirt-test-host.sh stop N FOLDER
#       Kills every process in the namespace (libvirtd and its QEMUs), removes the namespace, the
#       veth pair and FOLDER.
set -eu

usage() {
	echo "usage: $0 start N FOLDER [--without-emulator BINARY]... | kill N | cut N | stop N FOLDER" >&2
	exit 2
}

[ $# -ge 2 ] || usage
action=$1
index=$2
case $index in *[!0-9]* | '') usage ;; esac
[ "$index" -ge 1 ] && [ "$index" -le 200 ] || usage
netns=dmah-h$index
outside=dmah$index-o
inside=dmah$index-i
address=10.251.$index.2

namespace_pids() {
	ip netns pids "$netns" 2>/dev/null || true
}

case $action in
start)
	[ $# -ge 3 ] || usage
	folder=$3
	shift 3
	hidden=""
	while [ $# -gt 0 ]; do
		[ "$1" = --without-emulator ] && [ $# -ge 2 ] || usage
		hidden="$hidden $2"
		shift 2
	done
	command -v libvirtd >/dev/null || { echo "libvirtd not found: apt-get install libvirt-daemon-system" >&2; exit 3; }
	mkdir -p "$folder/run" "$folder/lib/images" "$folder/etc/qemu" "$folder/log"
	cat >"$folder/etc/libvirtd.conf" <<-EOF
		listen_tls = 0
		listen_tcp = 1
		listen_addr = "$address"
		auth_tcp = "none"
		auth_unix_rw = "none"
		unix_sock_dir = "/run/libvirt"
		log_outputs = "3:file:$folder/log/libvirtd.log"
		keepalive_interval = 2
		keepalive_count = 3
	EOF
	# QEMU as root on files root owns, no cgroups, no virtlogd, no per-domain /dev (FIELD-NOTES).
	cat >"$folder/etc/qemu.conf" <<-EOF
		user = "root"
		group = "root"
		dynamic_ownership = 0
		remember_owner = 0
		security_driver = "none"
		cgroup_controllers = [ ]
		stdio_handler = "file"
		namespaces = [ ]
	EOF
	ip netns add "$netns"
	ip link add "$outside" type veth peer name "$inside"
	ip link set "$inside" netns "$netns"
	ip addr add "10.251.$index.1/24" dev "$outside"
	ip link set "$outside" up
	ip -n "$netns" addr add "$address/24" dev "$inside"
	ip -n "$netns" link set "$inside" up
	ip -n "$netns" link set lo up
	hide=""
	for binary in $hidden; do
		path=$(command -v "$binary" || true)
		[ -n "$path" ] && hide="$hide mount --bind /dev/null $path;"
	done
	# ip netns exec gives the command a mount namespace of its own; libvirtd's folders are bound
	# there and vanish with its last process. The daemon keeps no descriptor of its starter's: one
	# left open (a pipe, the socket a test framework watches for its child's exit) would never close.
	ip netns exec "$netns" bash -c "
		for fd in \$(ls /proc/\$\$/fd); do [ \$fd -gt 2 ] && eval \"exec \$fd>&-\"; done
		mount --make-rprivate /
		mount --bind '$folder/run' /run/libvirt
		mount --bind '$folder/lib' /var/lib/libvirt
		mount --bind '$folder/etc' /etc/libvirt
		$hide
		exec libvirtd --listen --daemon --pid-file '$folder/run/libvirtd.pid' --config '$folder/etc/libvirtd.conf' \
			</dev/null >/dev/null 2>>'$folder/log/libvirtd.stderr'
	"
	uri=qemu+tcp://$address/system
	tries=0
	until virsh -c "$uri" uri >/dev/null 2>&1; do
		tries=$((tries + 1))
		if [ $tries -ge 100 ]; then
			echo "libvirtd of test host $index does not answer at $uri; see $folder/log/libvirtd.log" >&2
			exit 3
		fi
		sleep 0.1
	done
	echo "$uri"
	;;
kill)
	for pid in $(namespace_pids); do
		[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = libvirtd ] && kill -KILL "$pid"
	done
	true
	;;
cut)
	ip link set "$outside" down
	;;
stop)
	[ $# -ge 3 ] || usage
	folder=$3
	for pid in $(namespace_pids); do kill -KILL "$pid" 2>/dev/null || true; done
	tries=0
	while [ -n "$(namespace_pids)" ] && [ $tries -lt 50 ]; do
		tries=$((tries + 1))
		sleep 0.1
	done
	ip link del "$outside" 2>/dev/null || true
	ip netns del "$netns" 2>/dev/null || true
	rm -rf "$folder"
	;;
*)
	usage
	;;
esac
