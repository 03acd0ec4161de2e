#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# 2,000 WebSocket tunnels open at the same time through wsplice (python3-websockets on both ends),
# every echo verified, on both data paths; afterwards the daemon holds no more descriptors than
# before the load and the per-socket BPF map is empty.

CONNS=2000

setup_file() {
	load helpers
	build_peers
}

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	WS=$(free_port)
	HT=$(free_port)
}

teardown() {
	common_teardown
	dump_logs
}

load_test() {
	need_bpf "$1"
	local fds0 fds1 t0
	bg echo timeout 300 $PY "$PEERS/ws_echo.py" "$WS" --quiet
	wait_for_log "$LOGDIR/echo.log" '^listening'
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"

	# Baseline once the daemon is idle: one tunnel opened and closed first, so that whatever it
	# opens lazily on first use is counted in the baseline, not as a leak.
	timeout 30 $PY "$PEERS/ws_client.py" "ws://127.0.0.1:$FE/ws/warmup" --count 2 --size 100
	wait_until 5 '[ "$(info CurrConns)" -eq 0 ]'
	fds0=$(fd_count "$DAEMON_PID")
	echo "daemon fds at rest: $fds0"

	t0=$(date +%s)
	bg load timeout 240 $PY "$PEERS/load_client.py" "ws://127.0.0.1:$FE/ws/load" \
		--conns "$CONNS" --msgs 5 --size 2048 --go "$LOGDIR/go"
	wait_for_log "$LOGDIR/load.log" "^open $CONNS " 120

	# All tunnels are open at once: the daemon counts them, and on the BPF path each has its two
	# sockets in the map.
	[ "$(info CurrTunnels)" -eq "$CONNS" ]
	[ "$(fd_count "$DAEMON_PID")" -ge $((fds0 + 2 * CONNS)) ]
	if [ "$1" = bpf ]; then
		[ "$(sock_map_count)" -eq $((2 * CONNS)) ]
	fi

	touch "$LOGDIR/go"
	wait "$load_PID"
	cat "$LOGDIR/load.log"
	grep -q "^ok $CONNS tunnels, $((CONNS * 5)) messages" "$LOGDIR/load.log"
	echo "load took $(($(date +%s) - t0)) s"

	# Nothing leaks: descriptors back to the baseline, no tunnel, no map entry, one log line each.
	wait_until 10 '[ "$(info CurrTunnels)" -eq 0 ]'
	wait_until 10 '[ "$(info CurrConns)" -eq 0 ]'
	wait_until 10 '[ "$(fd_count "$DAEMON_PID")" -eq "$fds0" ]'
	if [ "$1" = bpf ]; then
		wait_until 10 '[ "$(sock_map_count)" -eq 0 ]'
	fi
	wait_until 10 '[ "$(grep -c "fe_main websocket_servers/s1 .* 101 .*\"GET /ws/load/" "$LOGDIR/wsplice.log")" -eq "$CONNS" ]'
	[ "$(grep -E 'fe_main websocket_servers/s1 .*"GET /ws/load/' "$LOGDIR/wsplice.log" | grep -vc ' ---- ')" -eq 0 ]
}

@test "$CONNS concurrent tunnels, every echo verified, no fd or map entry left (bpf)" {
	load_test bpf
}

@test "$CONNS concurrent tunnels, every echo verified, no fd left (userspace)" {
	load_test user
}
