#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Connection retries, option redispatch, and the PROXY protocol as a server sees it.

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	DEAD=$(free_port)	# nothing listens there: connections are refused
	LIVE=$(free_port)
	mkdir -p "$LOGDIR/rec"
	bg srv timeout 120 $PY "$PEERS/proxy_server.py" "$LIVE" "$LOGDIR/rec"
	wait_for_log "$LOGDIR/srv.log" '^listening'
}

teardown() {
	common_teardown
	dump_logs
}

# proxy BACKEND_LINES [MODE [CONNECT_TIMEOUT]]: one frontend, one backend with those lines.
proxy() {
	cfg_head "$LOGDIR/w.cfg" mode="${2:-http}" connect="${3:-2s}" <<EOC
frontend fe
    bind 127.0.0.1:$FE
    default_backend be
backend be
$1
EOC
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
}

# timed_get: GET / through the frontend; the status in $output, the milliseconds it took in $ms.
timed_get() {
	local t0
	t0=$(date +%s%N)
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/"
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "$output after $ms ms"
}

@test "retries: a refused server is tried retries+1 times, then 503 'SC' with the count logged" {
	proxy "    retries 1
    server s1 127.0.0.1:$DEAD"
	timed_get
	[ "$output" = 503 ]
	# one turn-around of min(timeout connect, 1 s) between the two attempts
	[ "$ms" -ge 900 ] && [ "$ms" -lt 4000 ]
	wait_for_log "$LOGDIR/wsplice.log" ' be/s1 .* 503 .* SC-- [0-9]+/[0-9]+/[0-9]+/[0-9]+/1 '
}

@test "retries 0: 503 at once" {
	proxy "    retries 0
    server s1 127.0.0.1:$DEAD"
	timed_get
	[ "$output" = 503 ]
	[ "$ms" -lt 500 ]
	wait_for_log "$LOGDIR/wsplice.log" ' be/s1 .* SC-- [0-9]+/[0-9]+/[0-9]+/[0-9]+/0 '
}

# late_server PORT HOLD CONNECT_TIMEOUT RETRIES: a server whose handshake does not complete for
# HOLD seconds (tests/peers/late_accept.py; -1: never) behind the proxy. The daemon's send right
# after connect() (srvconn.c) finds the connect still in progress, so the request waits for
# EPOLLOUT under the connect timeout.
late_server() {
	bg late timeout 60 $PY "$PEERS/late_accept.py" "$1" "$2"
	wait_for_log "$LOGDIR/late.log" '^listening'
	proxy "    retries $4
    server s1 127.0.0.1:$1" http "$3"
}

@test "timeout connect: a handshake that never completes is retried, then 503 'sC'" {
	late_server "$(free_port)" -1 300ms 1
	timed_get
	[ "$output" = 503 ]
	# two attempts of 300 ms, the second at once after the first timed out
	[ "$ms" -ge 600 ] && [ "$ms" -lt 4000 ]
	wait_for_log "$LOGDIR/wsplice.log" ' be/s1 .* 503 .* sC-- [0-9]+/[0-9]+/[0-9]+/[0-9]+/1 '
}

@test "a handshake that completes late: the request waits for it, 200, Tc logged" {
	local tc
	# the server accepts after 0.5 s; the daemon's SYN, dropped at first, is sent again at 1 s
	late_server "$(free_port)" 0.5 5s 0
	run timeout 10 curl -s "http://127.0.0.1:$FE/"
	[ "$output" = late ]
	wait_for_log "$LOGDIR/wsplice.log" ' be/s1 .* 200 '
	tc=$(grep -m1 ' be/s1 .* 200 ' "$LOGDIR/wsplice.log" |
		sed -E 's#.* -?[0-9]+/-?[0-9]+/(-?[0-9]+)/-?[0-9]+/-?[0-9]+ 200 .*#\1#')
	echo "Tc $tc ms"
	[ "$tc" -ge 900 ] && [ "$tc" -lt 4000 ]
}

@test "option redispatch: the last retry goes to another server, logged '+N'" {
	proxy "    retries 2
    option redispatch
    server s1 127.0.0.1:$DEAD
    server s2 127.0.0.1:$LIVE"
	local i
	for i in 1 2 3 4; do
		run timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/r$i"
		[ "$output" = 200 ]
	done
	# the requests balanced to s1 were redispatched to s2 on their last retry
	wait_for_log "$LOGDIR/wsplice.log" ' be/s2 .* 200 .* [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+2 '
	refute grep -q ' be/s1 .* 200 ' "$LOGDIR/wsplice.log"
}

@test "send-proxy: the server sees 'PROXY TCP4 client frontend cport fport' before the request" {
	proxy "    server s1 127.0.0.1:$LIVE send-proxy"
	run timeout 10 curl -s --local-port 0 "http://127.0.0.1:$FE/v1"
	[ "$output" = ok ]
	local first
	first=$(head -n1 "$LOGDIR/rec/conn-1" | tr -d '\r')
	echo "$first"
	[[ "$first" =~ ^PROXY\ TCP4\ 127\.0\.0\.1\ 127\.0\.0\.1\ [0-9]+\ $FE$ ]]
	# the client port is the one the daemon logged
	local cport
	cport=$(echo "$first" | cut -d' ' -f5)
	wait_for_log "$LOGDIR/wsplice.log" "^127\.0\.0\.1:$cport .* \"GET /v1 HTTP/1.1\""
	sed -n 2p "$LOGDIR/rec/conn-1" | grep -q '^GET /v1 HTTP/1.1'
}

@test "send-proxy-v2: the binary header with both addresses, in mode tcp too" {
	local mode
	for mode in http tcp; do
		rm -f "$LOGDIR"/rec/*
		FE=$(free_port)
		proxy "    server s1 127.0.0.1:$LIVE send-proxy-v2" "$mode"
		run timeout 10 curl -s "http://127.0.0.1:$FE/v2"
		[ "$output" = ok ]
		# (in mode tcp, wait_for_port's probe made a connection of its own, header only)
		local rec
		rec=$(grep -l "GET /v2" "$LOGDIR"/rec/conn-*)
		run $PY -c '
import sys, struct
d = open(sys.argv[1], "rb").read()
assert d[:12] == b"\r\n\r\n\x00\r\nQUIT\n", d[:16]
assert d[12] == 0x21 and d[13] == 0x11, d[12:14]
ln = struct.unpack("!H", d[14:16])[0]
assert ln == 12, ln
src, dst = d[16:20], d[20:24]
sport, dport = struct.unpack("!HH", d[24:28])
assert src == dst == bytes([127, 0, 0, 1])
assert dport == int(sys.argv[2]), dport
assert d[28:].startswith(b"GET /v2 HTTP/1.1"), d[28:60]
print("ok", sport, dport)
' "$rec" "$FE"
		echo "$mode: $output"
		[ "$status" -eq 0 ]
		stop_wsplice
	done
}

# queue_proxy TIMEOUT_QUEUE: one server with maxconn 1 answering after 1 s.
queue_proxy() {
	SLOW=$(free_port)
	bg slow timeout 120 $PY "$PEERS/slow_server.py" "$SLOW" 1
	wait_for_log "$LOGDIR/slow.log" '^listening'
	proxy "    ${1:+timeout queue $1}
    server s1 127.0.0.1:$SLOW maxconn 1"
}

@test "queue: a request finding every server full waits for a slot, Tw logged" {
	queue_proxy
	timeout 10 curl -s "http://127.0.0.1:$FE/a" >"$LOGDIR/a.out" 3>&- &
	local first=$!
	sleep 0.2
	run timeout 10 curl -s -w ' %{http_code}' "http://127.0.0.1:$FE/b"
	wait "$first"
	echo "$(cat "$LOGDIR/a.out") / $output"
	[ "$(cat "$LOGDIR/a.out")" = "done 1" ]
	[ "${lines[0]}" = "done 2" ]
	[ "${lines[1]}" = " 200" ]
	# /b waited about the 0.8 s that /a still had to run
	wait_for_log "$LOGDIR/wsplice.log" '"GET /b HTTP/1.1"'
	local tw
	tw=$(grep '"GET /b' "$LOGDIR/wsplice.log" | sed -E 's/.* be\/s1 -?[0-9]+\/([0-9]+)\/.*/\1/')
	echo "Tw $tw"
	[ "$tw" -ge 500 ] && [ "$tw" -lt 3000 ]
}

@test "queue: timeout queue expires with 503 'sQ', and the server never sees the request" {
	queue_proxy 300ms
	timeout 10 curl -s "http://127.0.0.1:$FE/a" >"$LOGDIR/a.out" 3>&- &
	local first=$!
	sleep 0.2
	run timeout 10 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/b"
	wait "$first"
	[ "$output" = 503 ]
	[ "$(cat "$LOGDIR/a.out")" = "done 1" ]
	wait_for_log "$LOGDIR/wsplice.log" '"GET /b HTTP/1.1"'
	grep -E ' be/<NOSRV> .* 503 .* sQ-- ' "$LOGDIR/wsplice.log"
	# the next request is served: the server only ever counted two
	run timeout 10 curl -s "http://127.0.0.1:$FE/c"
	[ "$output" = "done 2" ]
}
