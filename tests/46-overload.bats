#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Overload: more clients than maxconn wait in the accept backlog and are served as others close;
# out of descriptors (EMFILE), the accept loop neither spins nor floods the log, keeps serving
# what it has, and serves the waiting clients once descriptors free up; health checks without a
# socket fail as HAProxy's do, warned once, without spinning.

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
	CHAOS=$OUT/chaos
}

teardown() {
	common_teardown
	dump_logs
}

# limit_for_free_slots PID K: the open-files limit that leaves PID exactly K free descriptors
# (the kernel gives the lowest free number, and EMFILE when none is below the limit).
limit_for_free_slots() {
	ls "/proc/$1/fd" | sort -n | awk -v k="$2" '
		{ open[$1] = 1 }
		END { for (l = 0; ; l++) { if (!(l in open)) free++; if (free == k) { print l + 1; exit } } }'
}

# --- maxconn: the excess waits in the backlog ---------------------------------------------------

# 200 chaos tunnels (random sizes, half-closes, resets) through a daemon with maxconn 50: the
# first 50 are held open, the other 150 wait unaccepted; once released, every one of the 200 is
# served, byte-exact, and the daemon never holds more than 50 connections.
overload() {
	need_bpf "$1"
	local n=200 max=50 peak=0 c i cum0
	bg srv timeout 120 "$CHAOS" server "$WS" --seed 4242 --conns "$n" --go "$LOGDIR/go" \
		--timeout 100
	wait_for_log "$LOGDIR/srv.log" '^listening'
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT" 1h "    maxconn $max"
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"
	[ "$(info Maxconn)" -eq "$max" ]
	wait_until 5 '[ "$(info CurrConns)" -eq 0 ]'
	cum0=$(info CumConns)

	bg cli timeout 120 "$CHAOS" client "127.0.0.1:$FE" --seed 4242 --conns "$n" \
		--go "$LOGDIR/go" --timeout 100
	wait_until 20 "[ \"\$(info CurrTunnels)\" -eq $max ]"
	# the others stay in the backlog: nothing more is accepted while the 50 are held
	sleep 1
	[ "$(info CurrConns)" -eq "$max" ]
	[ "$(info CumConns)" -eq $((cum0 + max)) ]
	kill -0 "$cli_PID"

	touch "$LOGDIR/go"
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$cli_PID" 2>/dev/null || break
		c=$(info CurrConns)
		[ "$c" -gt "$peak" ] && peak=$c
		sleep 0.05
	done
	wait "$cli_PID" || { cat "$LOGDIR/cli.log"; return 1; }
	wait "$srv_PID" || { cat "$LOGDIR/srv.log"; return 1; }
	cat "$LOGDIR/cli.log" "$LOGDIR/srv.log"
	echo "CurrConns peaked at $peak (maxconn $max)"
	grep -q "^ok $n tunnels" "$LOGDIR/cli.log"
	grep -q "^ok $n tunnels" "$LOGDIR/srv.log"
	[ "$peak" -le "$max" ]
	[ "$(info CumConns)" -eq $((cum0 + n)) ]
	wait_until 10 '[ "$(info CurrConns)" -eq 0 ]'
	refute grep -E '\[ALERT\]|AddressSanitizer|runtime error' "$LOGDIR/wsplice.log"
	stop_wsplice
}

@test "overload: 200 tunnels through maxconn 50, the excess waits and is served, none lost (bpf)" {
	overload bpf
}

@test "overload: 200 tunnels through maxconn 50, the excess waits and is served, none lost (userspace)" {
	overload user
}

# --- EMFILE -------------------------------------------------------------------------------------

# The daemon raises its open-files limit and derives maxconn from it, so a low limit at start
# never reaches EMFILE; lowering the soft limit of the running daemon (prlimit --pid) does.
@test "EMFILE: accept pauses without spinning, logs once, serves the backlog once fds free up" {
	local fds0 lim t0 ticks n
	bg http timeout 120 $PY "$PEERS/ka_server.py" "$HT"
	wait_for_port "$HT"
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/wsplice.cfg"
	wait_for_port "$FE"
	fds0=$(fd_count "$DAEMON_PID")
	lim=$(limit_for_free_slots "$DAEMON_PID" 4)
	timeout 5 prlimit --pid "$DAEMON_PID" --nofile="$lim:$(ulimit -Hn)"
	echo "daemon: $fds0 fds open, soft limit lowered to $lim"

	# 20 idle clients: the first ones take the last descriptors, the rest wait in the backlog.
	bg hold timeout 60 $PY -c '
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(20)]
print("connected", flush=True)
time.sleep(50)' "$FE"
	wait_for_log "$LOGDIR/wsplice.log" "frontend 'fe_main': accept: Too many open files \\(open-files limit $lim\\)"
	# A real request waits behind them, and so does a "show info" on the stats socket.
	bg req timeout 60 curl -s -o "$LOGDIR/body" -w '%{http_code}' "http://127.0.0.1:$FE/id"
	bg si timeout 60 sh -c 'echo "show info" | socat -t 60 - "UNIX-CONNECT:$1"' - "$STATS_SOCK"

	# While out of descriptors: no busy loop on either listener (a spinning loop would use all
	# of the 3 s), one warning (the next comes after 10 s), both clients still wait.
	ticks=$(cpu_ticks_over "$DAEMON_PID" 3)
	echo "CPU over 3 s: $ticks ticks of $(getconf CLK_TCK)/s"
	[ "$ticks" -lt $(($(getconf CLK_TCK) / 2)) ]
	[ "$(grep -c 'accept: Too many open files' "$LOGDIR/wsplice.log")" -eq 1 ]
	kill -0 "$req_PID"
	kill -0 "$si_PID"
	[ ! -s "$LOGDIR/body" ]

	# Descriptors come back: the waiting request is served, the end of the condition is logged
	# once the backlog drained.
	timeout 5 prlimit --pid "$DAEMON_PID" --nofile="$(ulimit -Hn):$(ulimit -Hn)"
	t0=$(date +%s%N)
	wait "$req_PID"
	echo "request served $((($(date +%s%N) - t0) / 1000000)) ms after the limit was raised"
	[ "$(cat "$LOGDIR/req.log")" = 200 ]
	grep -q '^conn=' "$LOGDIR/body"
	wait "$si_PID"
	grep -q '^CurrConns: ' "$LOGDIR/si.log"
	wait_for_log "$LOGDIR/wsplice.log" "frontend 'fe_main': accepting again after [0-9]+ failed accepts in [0-9]+ ms"

	# And again later, through the holders closing instead of a raised limit.
	kill "$hold_PID"
	wait_until 10 '[ "$(info CurrConns)" -eq 0 ]'
	timeout 5 prlimit --pid "$DAEMON_PID" --nofile="$lim:$(ulimit -Hn)"
	n=$(grep -c 'accept: Too many open files' "$LOGDIR/wsplice.log")
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/id"
	[ "$output" = 200 ]
	[ "$(grep -c 'accept: Too many open files' "$LOGDIR/wsplice.log")" -eq "$n" ]
	refute grep -E '\[ALERT\]|AddressSanitizer|runtime error' "$LOGDIR/wsplice.log"
	stop_wsplice
}

@test "EMFILE: a connection accepted with no fd left for its server gets 503, the daemon recovers" {
	local fds0
	bg http timeout 120 $PY "$PEERS/ka_server.py" "$HT"
	wait_for_port "$HT"
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/wsplice.cfg"
	wait_for_port "$FE"
	fds0=$(fd_count "$DAEMON_PID")
	# room for the client's socket, none for the server's
	timeout 5 prlimit --pid "$DAEMON_PID" --nofile="$(limit_for_free_slots "$DAEMON_PID" 1):$(ulimit -Hn)"
	run timeout 20 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/id"
	echo "with no fd for the server: $output"
	[ "$output" = 503 ]
	wait_for_log "$LOGDIR/wsplice.log" ' http_servers/h1 .* 503 .* SC-- '
	timeout 5 prlimit --pid "$DAEMON_PID" --nofile="$(ulimit -Hn):$(ulimit -Hn)"
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/id"
	[ "$output" = 200 ]
	# the idle server connection kept for reuse is purged after 5 s
	wait_until 10 '[ "$(fd_count "$DAEMON_PID")" -eq "$fds0" ]'
	stop_wsplice
}

# Health checks without a socket. HAProxy 2.6.12, starved the same way (prlimit on its pid,
# "server h1 ... check inter 200 fall 3 rise 2"), fails each such check as "Layer4 connection
# problem, info: "Too many sockets on the process (Too many open files)"", takes the server DOWN
# after fall of them (the line below, byte for byte), brings it UP after rise once descriptors
# are back, and stays idle meanwhile; it also logs "Cannot get a server socket." and an
# emergency "reached process FD limit" line at every probe, where wsplice warns once.
@test "EMFILE: health checks fail as HAProxy's, one warning, no spin, the server comes back UP" {
	local lim ticks
	bg http timeout 120 $PY "$PEERS/ka_server.py" "$HT"
	wait_for_port "$HT"
	cfg_head "$LOGDIR/wsplice.cfg" connect=2s <<EOF
frontend fe_main
    bind 127.0.0.1:$FE
    default_backend http_servers
backend http_servers
    server h1 127.0.0.1:$HT check inter 200 fall 3 rise 2
EOF
	start_wsplice "$LOGDIR/wsplice.cfg"
	wait_for_port "$FE"
	# (no request before: a pooled server connection purged later would free a descriptor)
	# not one descriptor left: the limit is the lowest free fd number
	lim=$(($(limit_for_free_slots "$DAEMON_PID" 1) - 1))
	timeout 5 prlimit --pid "$DAEMON_PID" --nofile="$lim:$(ulimit -Hn)"
	echo "soft limit lowered to $lim"
	wait_for_log "$LOGDIR/wsplice.log" '^\[WARNING\] \([0-9]+\) : Server http_servers/h1 is DOWN, reason: Layer4 connection problem, info: "Too many sockets on the process \(Too many open files\)", check duration: [0-9]+ms\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$' 5

	# Starved: a probe every 200 ms, each one failing at once, no busy loop, one warning.
	ticks=$(cpu_ticks_over "$DAEMON_PID" 3)
	echo "CPU over 3 s: $ticks ticks of $(getconf CLK_TCK)/s"
	[ "$ticks" -lt $(($(getconf CLK_TCK) / 2)) ]
	grep -E "health checks: socket: Too many open files \(open-files limit $lim\); checks fail until descriptors free up" "$LOGDIR/wsplice.log"
	[ "$(grep -c 'health checks: socket:' "$LOGDIR/wsplice.log")" -eq 1 ]
	[ "$(grep -c '^\[WARNING\].* is DOWN' "$LOGDIR/wsplice.log")" -eq 1 ]

	# Descriptors back: the next probes get sockets, the server is UP after rise of them.
	timeout 5 prlimit --pid "$DAEMON_PID" --nofile="$(ulimit -Hn):$(ulimit -Hn)"
	wait_for_log "$LOGDIR/wsplice.log" 'health checks: sockets again after [0-9]+ probes without one in [0-9]+ ms' 5
	wait_for_log "$LOGDIR/wsplice.log" 'Server http_servers/h1 is UP, reason: Layer4 check passed, check duration: [0-9]+ms\. 1 active and 0 backup servers online\.' 5
	local n
	n=$(grep -oE 'sockets again after [0-9]+ probes' "$LOGDIR/wsplice.log" | grep -oE '[0-9]+')
	grep "sockets again after" "$LOGDIR/wsplice.log"
	# about 15 in the 3 s and more: at least fall, not a spin's thousands
	[ "$n" -ge 3 ]
	[ "$n" -le 100 ]
	stats_cmd "show stat" | grep -q '^http_servers,h1,.*,UP,'
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/id"
	[ "$output" = 200 ]
	[ "$(grep -c 'health checks: socket:' "$LOGDIR/wsplice.log")" -eq 1 ]
	refute grep -E 'AddressSanitizer|runtime error' "$LOGDIR/wsplice.log"
	stop_wsplice
}
