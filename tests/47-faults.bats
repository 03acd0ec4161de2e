#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Faults the other files do not cover (a server reset mid-tunnel, refused connections and a
# garbage answer are in 30-splice, 52-retries-proxy and 25-http/20-handshake): a server that never
# answers, slowloris clients, a client that never reads what it asked for, a client that vanishes
# without a FIN or a reset. Where a tunnel is involved, on both data paths.

MiB=$((1024 * 1024))

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
	FAULTY="$PY $PEERS/faulty.py"
}

teardown() {
	common_teardown
	dump_logs
}

# proxy MODE TUNNEL_TIMEOUT [FRONTEND_EXTRA]: the standard configuration on data path MODE.
proxy() {
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT" "$2" "" "${3:-}"
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"
}

# ms_since T0_NS: milliseconds since T0_NS (date +%s%N).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# --- a server that never answers ----------------------------------------------------------------

mute_server() {
	need_bpf "$1"
	local t0 ms
	bg mute timeout 60 $FAULTY mute "$WS"
	bg mute2 timeout 60 $FAULTY mute "$HT"
	wait_for_log "$LOGDIR/mute.log" '^listening'
	wait_for_log "$LOGDIR/mute2.log" '^listening'
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT"
	sed -i 's/timeout server 30s/timeout server 1s/' "$LOGDIR/wsplice.cfg"
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"

	t0=$(date +%s%N)
	run timeout 10 curl -s -o "$LOGDIR/page" -w '%{http_code}' "http://127.0.0.1:$FE/plain"
	ms=$(ms_since "$t0")
	echo "plain request: $output after $ms ms"
	[ "$output" = 504 ]
	grep -q '504 Gateway Time-out' "$LOGDIR/page"
	[ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ]

	t0=$(date +%s%N)
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' -H 'Connection: Upgrade' \
		-H 'Upgrade: websocket' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
		-H 'Sec-WebSocket-Version: 13' "http://127.0.0.1:$FE/ws"
	ms=$(ms_since "$t0")
	echo "upgrade: $output after $ms ms"
	[ "$output" = 504 ]
	[ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ]
	wait_for_log "$LOGDIR/wsplice.log" 'http_servers/h1 .* 504 .* sH-- .*"GET /plain '
	wait_for_log "$LOGDIR/wsplice.log" 'websocket_servers/s1 .* 504 .* sH-- .*"GET /ws '
	[ "$(info CurrTunnels)" -eq 0 ]
	wait_until 5 '[ "$(info CurrConns)" -eq 0 ]'
}

@test "faults: a server that never answers: 504 after timeout server, request and upgrade (bpf)" {
	mute_server bpf
}

@test "faults: a server that never answers: 504 after timeout server, request and upgrade (userspace)" {
	mute_server user
}

# --- slowloris ----------------------------------------------------------------------------------

slowloris() {
	need_bpf "$1"
	local n=100 i ok=0
	bg http timeout 60 $PY "$PEERS/ka_server.py" "$HT"
	bg srv timeout 60 "$STREAM" server "$WS" --send 1M --recv 1M --timeout 30
	wait_for_port "$HT"
	wait_for_port "$WS"
	proxy "$1" 1h "    timeout http-request 2s"

	bg loris timeout 60 $FAULTY slowloris "$FE" "$n" 4
	wait_for_log "$LOGDIR/loris.log" "^connected $n"
	# While 100 connections trickle their heads in, other clients are served at once: plain
	# requests and a tunnel carrying 1 MiB each way.
	for ((i = 0; i < 20; i++)); do
		[ "$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/id")" = 200 ] &&
			ok=$((ok + 1))
	done
	echo "$ok of 20 requests answered 200 beside $n slowloris connections"
	[ "$ok" -eq 20 ]
	run timeout 20 "$STREAM" client "127.0.0.1:$FE" --send 1M --recv 1M --timeout 10
	echo "tunnel: $output"
	[ "$status" -eq 0 ]
	wait "$srv_PID"

	# Each slow head got HAProxy's 408 after timeout http-request, and its connection closed.
	wait "$loris_PID"
	cat "$LOGDIR/loris.log" | sort | uniq -c
	[ "$(grep -c '^answer 408 closed$' "$LOGDIR/loris.log")" -eq "$n" ]
	[ "$(grep -c ' 408 .* cR-- ' "$LOGDIR/wsplice.log")" -eq "$n" ]
	wait_until 5 '[ "$(info CurrConns)" -eq 0 ]'
}

@test "faults: 100 slowloris clients get 408 after timeout http-request, others unaffected (bpf)" {
	slowloris bpf
}

@test "faults: 100 slowloris clients get 408 after timeout http-request, others unaffected (userspace)" {
	slowloris user
}

# --- a client that never reads -----------------------------------------------------------------

# memory_bound: the daemon's RSS and the kernel memory held (memwatch.py's measure, see
# 30-splice) stay bounded while a 1 GiB answer meets a client that reads nothing.
memory_bound() {
	local n rss_max kdrop
	awk 'NR == 1 { a0 = $2; p0 = $3 }
	     { g = $3 - p0; if (g < 0) g = 0; k = (a0 - $2) - g
	       if (k > km) km = k; if ($1 > rm) rm = $1 }
	     END { printf "%d %d %d\n", NR, rm, km }' "$LOGDIR/mem.log" >"$LOGDIR/mem.sum"
	read -r n rss_max kdrop <"$LOGDIR/mem.sum"
	echo "$n samples: daemon RSS max $rss_max KiB, kernel memory grew at most $((kdrop / 1024)) MiB"
	[ "$n" -ge 10 ]
	rss_ok "$rss_max" $((32 * 1024))
	kernel_ok "$kdrop" $((192 * 1024))
}

@test "faults: a client that never reads a 1 GiB response: bounded memory, closed after timeout client" {
	bg http timeout 60 $PY "$PEERS/ka_server.py" "$HT"
	wait_for_port "$HT"
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT"
	sed -i 's/timeout client 30s/timeout client 3s/' "$LOGDIR/wsplice.cfg"
	start_wsplice "$LOGDIR/wsplice.cfg"
	wait_for_port "$FE"
	bg mem timeout 60 $PY "$PEERS/memwatch.py" "$DAEMON_PID"
	wait_for_log "$LOGDIR/mem.log" '^[0-9]+ [0-9]+ [0-9]+$'

	run timeout 30 $FAULTY noread "$FE" "/big?n=$((1024 * MiB))" 6
	echo "client: $output"
	[ "$status" -eq 0 ]
	# the daemon gave up on the client after timeout client without progress
	[[ "$output" == *"closed after "* ]]
	kill "$mem_PID"
	memory_bound
	wait_for_log "$LOGDIR/wsplice.log" 'http_servers/h1 .* 200 [0-9]+ .* cD-- '
	wait_until 5 '[ "$(info CurrConns)" -eq 0 ]'
}

noread_tunnel() {
	need_bpf "$1"
	bg srv timeout 60 "$STREAM" server "$WS" --send 1G --timeout 30
	wait_for_port "$WS"
	proxy "$1" 3s
	bg mem timeout 60 $PY "$PEERS/memwatch.py" "$DAEMON_PID"
	wait_for_log "$LOGDIR/mem.log" '^[0-9]+ [0-9]+ [0-9]+$'

	run timeout 30 $FAULTY noread "$FE" /ws 8
	echo "client: $output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"closed after "* ]]
	kill "$mem_PID"
	memory_bound
	wait_for_log "$LOGDIR/wsplice.log" 'websocket_servers/s1 .* 101 .* cD-- '
	wait_until 5 '[ "$(info CurrTunnels)" -eq 0 ]'
	if [ "$1" = bpf ]; then
		wait_until 5 '[ "$(sock_map_count)" -eq 0 ]'
	fi
}

@test "faults: a tunnel client that never reads a 1 GiB stream: bounded memory, timeout tunnel (bpf)" {
	noread_tunnel bpf
}

@test "faults: a tunnel client that never reads a 1 GiB stream: bounded memory, timeout tunnel (userspace)" {
	noread_tunnel user
}

# --- a client that vanishes -------------------------------------------------------------------

vanish() {
	need_bpf "$1"
	local fds0 t0 ms
	bg srv timeout 60 $FAULTY sink "$WS"
	wait_for_log "$LOGDIR/srv.log" '^listening'
	# the upload's byte count (%U) is in the line: HAProxy's httplog has only %B
	proxy "$1" 2s "    log-format \"$LOGFMT_U\""
	fds0=$(fd_count "$DAEMON_PID")

	# No FIN, no reset: only timeout tunnel can tell the client is gone.
	run timeout 10 $FAULTY vanish "$FE" /ws 1000
	[ "$status" -eq 0 ]
	t0=$(date +%s%N)
	[ "$(info CurrTunnels)" -eq 1 ]
	wait_until 10 '[ "$(info CurrTunnels)" -eq 0 ]'
	ms=$(ms_since "$t0")
	echo "tunnel closed $ms ms after the client vanished (timeout tunnel 2s)"
	[ "$ms" -ge 1000 ]
	# The server got every byte sent before, then an orderly EOF.
	wait "$srv_PID"
	cat "$LOGDIR/srv.log"
	grep -q '^eof after 1000 bytes$' "$LOGDIR/srv.log"
	wait_for_log "$LOGDIR/wsplice.log" 'websocket_servers/s1 .* 101 [0-9]+ 1[0-9]{3} cD-- '
	wait_until 5 '[ "$(fd_count "$DAEMON_PID")" -eq "$fds0" ]'
	if [ "$1" = bpf ]; then
		wait_until 5 '[ "$(sock_map_count)" -eq 0 ]'
	fi
}

@test "faults: a client that vanishes mid-tunnel (no FIN, no RST) is closed by timeout tunnel (bpf)" {
	vanish bpf
}

@test "faults: a client that vanishes mid-tunnel (no FIN, no RST) is closed by timeout tunnel (userspace)" {
	vanish user
}
