#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The daemon's life: command line, signals, pins, inherited listeners, the file limit.

setup() {
	load helpers
	common_setup
	need_daemon
	WSP=$(free_port)
	HTTP=$(free_port)
	bg http timeout 120 $PY -m http.server "$HTTP" --bind 127.0.0.1
	wait_for_port "$HTTP"
}

teardown() {
	common_teardown
	dump_logs
}

@test "lifecycle: -v and -h answer and exit 0; an unknown option is refused" {
	run timeout 5 "$WSPLICE" -v
	[ "$status" -eq 0 ]
	[[ "$output" == "wsplice version "* ]]
	run timeout 5 "$WSPLICE" -h
	[ "$status" -eq 0 ]
	[[ "$output" == *"-dS"* ]]
	run timeout 5 "$WSPLICE" -Z -f /dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown option '-Z'"* ]]
}

@test "lifecycle: SIGTERM stops at once with status 0, pidfile and pins removed" {
	need_bpf bpf
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$WSP"
	[ -d "$(pin_dir)" ]
	[ -e "$(pin_dir)/wsplice_sock" ]
	[ -e "$(pin_dir)/wsplice_verdict" ]
	local pins t0
	pins=$(pin_dir)
	t0=$(date +%s%N)
	stop_wsplice
	echo "stopped in $((($(date +%s%N) - t0) / 1000000)) ms"
	[ $((($(date +%s%N) - t0) / 1000000)) -lt 2000 ]
	[ ! -e "$pins" ]
	[ ! -e "$LOGDIR/wsplice.pid" ]
}

@test "lifecycle: SIGINT stops too, with status 0" {
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$WSP"
	kill -INT "$DAEMON_PID"
	wait "$wsplice_PID"
}

@test "lifecycle: pins left by a killed instance are removed by the next start" {
	need_bpf bpf
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$WSP"
	local old
	old=$(pin_dir)
	kill -KILL "$DAEMON_PID"
	wait "$wsplice_PID" || true
	[ -d "$old" ]
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$WSP"
	# Every start removes every dead instance's pins, so a daemon of a file running beside this
	# one may come first (seen once in CI): then the log line is in its log, not in this one.
	wait_until 10 '[ ! -e "'"$old"'" ]'
	grep -q "removing BPF objects pinned by dead instance" "$LOGDIR/wsplice.log" ||
		echo "another daemon removed $old first"
	[ -d "$(pin_dir)" ]
	run timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WSP/"
	[ "$output" = 200 ]
}

@test "lifecycle: bind fd@N serves on an inherited listening socket" {
	cfg_head "$LOGDIR/fd.cfg" <<EOF
frontend fe
    bind "fd@\${LISTEN_FD}"
    default_backend be
backend be
    server h1 127.0.0.1:$HTTP
EOF
	# python binds and listens, then execs wsplice with the socket on fd 5
	bg wsplice timeout 60 $PY -c '
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
os.dup2(s.fileno(), 5)
os.set_inheritable(5, True)
os.environ["LISTEN_FD"] = "5"
os.execv(sys.argv[2], [sys.argv[2], "-db", "-f", sys.argv[3]])
' "$WSP" "$WSPLICE" "$LOGDIR/fd.cfg"
	wait_for_log "$LOGDIR/wsplice.log" "started"
	run timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WSP/"
	[ "$output" = 200 ]
	wait_for_log "$LOGDIR/wsplice.log" 'fe be/h1 .* 200 '
}

@test "lifecycle: maxconn follows the open-files limit; a value that does not fit is lowered" {
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$WSP"
	local hard
	hard=$(ulimit -Hn)
	wait_for_log "$LOGDIR/wsplice.log" "maxconn set to $(((hard - 64) / 2)) from the open-files limit \\($hard\\)"
	[ "$(info Maxconn)" -eq $(((hard - 64) / 2)) ]
	stop_wsplice
	WSP=$(free_port)
	std_cfg "$LOGDIR/big.cfg" "$WSP" "$HTTP" "$HTTP" 1h "    maxconn $((hard * 4))"
	start_wsplice "$LOGDIR/big.cfg" -dS
	wait_for_port "$WSP"
	wait_for_log "$LOGDIR/wsplice.log" "FD limit \\($hard\\) too low for maxconn=$((hard * 4))"
	[ "$(info Maxconn)" -eq $(((hard - 64) / 2)) ]
}

@test "lifecycle: with splice(2) pipes, maxconn leaves room for maxconn / 4 of them, as HAProxy" {
	local hard max
	hard=$(ulimit -Hn)
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$WSP"
	# 2 fds a connection and 2 a pipe, a pipe for 4 connections: 2.5 fds each
	max=$(((hard - 64) * 2 / 5))
	wait_for_log "$LOGDIR/wsplice.log" "maxconn set to $max from the open-files limit \\($hard\\)"
	[ "$(info Maxconn)" -eq "$max" ]
	[ "$(info Maxpipes)" -eq $((max / 4)) ]
	stop_wsplice
	# a configured maxconn keeps its fds; the pipes get what is left, with a notice
	WSP=$(free_port)
	max=$(((hard - 64) / 2 - 100))
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP" 1h "    maxconn $max"
	start_wsplice "$LOGDIR/w.cfg"
	wait_for_port "$WSP"
	[ "$(info Maxconn)" -eq "$max" ]
	wait_for_log "$LOGDIR/wsplice.log" "maxpipes $((max / 4)) does not fit the open-files limit \\($hard\\) with maxconn $max: using 100"
	[ "$(info Maxpipes)" -eq 100 ]
}

@test "lifecycle: -n sets maxconn over the configuration's, as HAProxy's -n" {
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP" 1h "    maxconn 100"
	start_wsplice "$LOGDIR/w.cfg" -dS -n 7
	wait_for_port "$WSP"
	[ "$(info Maxconn)" -eq 7 ]
	run timeout 5 "$WSPLICE" -n zero -f "$LOGDIR/w.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"-n expects a positive number"* ]]
}

@test "lifecycle: SIGHUP logs every server's state and every proxy's connections, and goes on" {
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP"
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$WSP"
	# wait_for_port's probe is a connection too: the dump counts it until the daemon saw it go
	# (act 1 on a loaded machine)
	wait_until 5 '[ "$(info CurrConns)" -eq 0 ]'
	kill -HUP "$DAEMON_PID"
	# HAProxy 2.6's lines (haproxy -db, kill -HUP)
	wait_for_log "$LOGDIR/wsplice.log" "SIGHUP: Proxy http_servers has 1 active servers and 0 backup servers available\. Conn: act\(FE\+BE\): 0\+0, 0 pend \(0 unass\), tot\(FE\+BE\): 0\+0\.$"
	grep -q "SIGHUP received, dumping servers states\.$" "$LOGDIR/wsplice.log"
	grep -q "SIGHUP: Server websocket_servers/s1 is UP\. Conn: 0 act, 0 pend, 0 tot\.$" "$LOGDIR/wsplice.log"
	grep -Eq "SIGHUP: Proxy fe_main has no servers\. Conn: act\(FE\+BE\): 0\+0, 0 pend \(0 unass\), tot\(FE\+BE\): [0-9]+\+0\.$" "$LOGDIR/wsplice.log"
	[ "$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WSP/")" = 200 ]
	stop_wsplice
}

@test "lifecycle: -c checks without starting anything" {
	std_cfg "$LOGDIR/w.cfg" "$WSP" "$HTTP" "$HTTP"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/w.cfg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Configuration file is valid"* ]]
	refute wait_for_port "$WSP" 1
}
