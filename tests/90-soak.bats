#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# scripts/soak for one minute on each data path: mixed HTTP and WebSocket load (chaos tunnels
# with every byte checked), memory and descriptors sampled. It fails on any error, on RSS growth
# past 8 MiB after the warm-up, or on more descriptors idle at the end than idle at the start.

setup_file() {
	load helpers
	build_peers
}

setup() {
	load helpers
	common_setup
	need_daemon
}

soak() {
	need_bpf "$1"
	local args=()
	[ "$1" = user ] && args=(--nosplice)
	run timeout 150 "$TOP/scripts/soak" --duration 60 --interval 10 "${args[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "soak: ok" ]
	# the load ran: requests and tunnels were counted
	[[ "$output" =~ soak:\ ([0-9]+)\ requests\ and\ ([0-9]+)\ tunnels\ ok ]]
	[ "${BASH_REMATCH[1]}" -gt 100 ]
	[ "${BASH_REMATCH[2]}" -gt 1000 ]
}

@test "soak: 1 minute of mixed HTTP and WebSocket load, no error, flat memory, no fd left (bpf)" {
	soak bpf
}

@test "soak: 1 minute of mixed HTTP and WebSocket load, no error, flat memory, no fd left (userspace)" {
	soak user
}
