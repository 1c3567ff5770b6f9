# lib-dockerd.sh: a private, real Docker Engine for the tests that need one.
#
#   start_dockerd        start one dockerd for this test file (or skip_all,
#                        saying why), import the image bb:1 made from
#                        busybox, and export DOCKER_HOST and DOCKERD_SOCK
#   dockerd_wait <secs> <command...>
#                        run the command every 0.1 s until it succeeds, for
#                        at most <secs> seconds; its last status otherwise
#   container_state <name> <go template>
#                        what `docker inspect -f` says, or nothing
#   stop_dockerd         remove every container, stop dockerd, remove its
#                        directories: call it before test_done, which
#                        removes the test's directory; the EXIT trap runs
#                        it too, for a script that ends early
#
# dockerd runs as root with no effect on the host's own Docker: vfs
# storage, no iptables, no bridge (the containers use --network host), its
# own data root under the test's directory and its exec root and socket
# under /tmp/sre-dockerd.XXXXXX, since a UNIX socket's path is limited to
# 108 bytes and containerd's sockets live under the exec root. The image
# bb:1 is /bin/busybox with links for sh and httpd and a /www/index.html:
# no registry is needed.
#
# One dockerd per test file: it takes about a second to come up.

dockerd_dir_=
dockerd_pid_=

stop_dockerd() {
	if [ -n "$dockerd_pid_" ]; then
		ids=$(docker ps -aq 2>/dev/null)
		[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
		kill "$dockerd_pid_" 2>/dev/null
		i=0
		while kill -0 "$dockerd_pid_" 2>/dev/null && [ $i -lt 100 ]; do
			i=$((i + 1))
			sleep 0.1
		done
		kill -9 "$dockerd_pid_" 2>/dev/null
		wait "$dockerd_pid_" 2>/dev/null
		dockerd_pid_=
	fi
	if [ -n "$dockerd_dir_" ]; then
		# dockerd leaves its network namespace mounted under the exec root.
		awk -v d="$dockerd_dir_/" -v t="$TRASH_DIRECTORY/dockerd/" \
		    'index($2, d) == 1 || index($2, t) == 1 { print $2 }' /proc/mounts |
		sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
		rm -rf "$dockerd_dir_"
		dockerd_dir_=
	fi
	return 0
}

# test-lib.sh's EXIT trap still runs, after dockerd is gone.
trap 'dockerd_code_=$?; stop_dockerd; (exit $dockerd_code_); test_at_exit_' EXIT
trap 'exit 1' INT TERM HUP

dockerd_wait() {
	limit=$(($1 * 10))
	shift
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -lt "$limit" ] || return 1
		sleep 0.1
	done
}

container_state() {
	docker inspect -f "$2" "$1" 2>/dev/null
}

start_dockerd() {
	if [ "$(id -u)" != 0 ]; then
		skip_all "dockerd needs root"
	fi
	for c in dockerd docker busybox tar; do
		command -v $c >/dev/null 2>&1 || skip_all "no $c (make deps installs docker.io and busybox-static)"
	done
	busybox_=$(command -v busybox)
	# A busybox linked against libc would not run in an image with no libc.
	if ldd "$busybox_" >/dev/null 2>&1; then
		skip_all "$busybox_ is not a static busybox (make deps installs busybox-static)"
	fi
	dockerd_dir_=$(mktemp -d /tmp/sre-dockerd.XXXXXX) || skip_all "no directory under /tmp"
	DOCKERD_SOCK="$dockerd_dir_/sock"
	DOCKER_HOST="unix://$DOCKERD_SOCK"
	DOCKER_CONFIG="$TRASH_DIRECTORY/docker-cli"
	export DOCKER_HOST DOCKERD_SOCK DOCKER_CONFIG
	mkdir -p "$TRASH_DIRECTORY/dockerd" &&
	dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
		--data-root "$TRASH_DIRECTORY/dockerd/data" --exec-root "$dockerd_dir_/exec" \
		--pidfile "$dockerd_dir_/pid" -H "$DOCKER_HOST" \
		>"$TRASH_DIRECTORY/dockerd/log" 2>&1 &
	dockerd_pid_=$!
	i=0
	while ! docker version >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 300 ] || ! kill -0 "$dockerd_pid_" 2>/dev/null; then
			why=$(grep -m1 -i "level=fatal\|failed to start" "$TRASH_DIRECTORY/dockerd/log" |
			      cut -c1-200)
			stop_dockerd
			skip_all "dockerd did not come up in 30 s${why:+: $why}"
		fi
		sleep 0.1
	done
	rootfs="$TRASH_DIRECTORY/dockerd/rootfs"
	mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/tmp" &&
	cp "$busybox_" "$rootfs/bin/busybox" &&
	for l in sh httpd sleep true; do
		ln -s busybox "$rootfs/bin/$l" || return 1
	done &&
	echo ok >"$rootfs/www/index.html" &&
	tar -C "$rootfs" -c . | docker import - bb:1 >/dev/null ||
	{ echo "Bail out! could not import busybox into the private dockerd"; exit 1; }
}
