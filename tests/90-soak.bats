#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# scripts/soak for one minute on each data path, both at once: mixed HTTP and WebSocket load
# (chaos tunnels with every byte checked), memory and descriptors sampled, two daemons sharing
# the machine's two cores with their loads. Each fails on any error, on RSS growth past 8 MiB
# after the warm-up, or on more descriptors idle at the end than idle at the start.
# On a sanitizer build (make test SANITIZE=1) they run 20 seconds: that run looks for memory
# errors under the same load, the plain run's minute for growth, which ASan's quarantine would
# hide anyway (scripts/soak does not check RSS there).

# start_soak PATH: scripts/soak in the background, its output in $BATS_FILE_TMPDIR/PATH.out and
# its exit status in PATH.rc once it is done.
start_soak() {
	local args=()
	[ "$1" = user ] && args=(--nosplice)
	(
		timeout 150 "$TOP/scripts/soak" --duration "$SECS" --interval "$EVERY" "${args[@]}" \
			>"$BATS_FILE_TMPDIR/$1.out" 2>&1
		echo $? >"$BATS_FILE_TMPDIR/$1.rc"
	) 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/$1.pid"
}

setup_file() {
	load helpers
	build_peers
	SECS=60 EVERY=10
	if sanitizer_build; then
		SECS=20 EVERY=5
	fi
	echo "$SECS" >"$BATS_FILE_TMPDIR/secs"
	if [ "$(id -u)" = 0 ] && [ -d /sys/fs/bpf ] && command -v bpftool >/dev/null; then
		start_soak bpf
	fi
	start_soak user
}

teardown_file() {
	local f
	for f in "$BATS_FILE_TMPDIR"/*.pid; do
		[ -e "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	true
}

setup() {
	load helpers
	common_setup
	need_daemon
}

soak() {
	need_bpf "$1"
	local secs rc=$BATS_FILE_TMPDIR/$1.rc
	secs=$(cat "$BATS_FILE_TMPDIR/secs")
	wait_until 160 "[ -e '$rc' ]"
	output=$(cat "$BATS_FILE_TMPDIR/$1.out")
	echo "$output"
	[ "$(cat "$rc")" -eq 0 ]
	[ "$(tail -n1 <<<"$output")" = "soak: ok" ]
	# the load ran: requests and tunnels were counted
	[[ "$output" =~ soak:\ ([0-9]+)\ requests\ and\ ([0-9]+)\ tunnels\ ok ]]
	[ "${BASH_REMATCH[1]}" -gt 100 ]
	[ "${BASH_REMATCH[2]}" -gt $((secs * 15)) ]
}

@test "soak: a minute (20 s sanitized) of mixed HTTP and WebSocket load, no error, flat memory, no fd left (bpf)" {
	soak bpf
}

@test "soak: a minute (20 s sanitized) of mixed HTTP and WebSocket load, no error, flat memory, no fd left (userspace)" {
	soak user
}
