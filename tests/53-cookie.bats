#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Sticky sessions with a cookie (HAProxy's "cookie NAME insert|rewrite|prefix ..."), for plain
# requests and for the WebSocket upgrade.

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	P1=$(free_port)
	P2=$(free_port)
	bg s1 timeout 120 $PY "$PEERS/ka_server.py" "$P1" s1
	bg s2 timeout 120 $PY "$PEERS/ka_server.py" "$P2" s2
	wait_for_log "$LOGDIR/s1.log" '^listening'
	wait_for_log "$LOGDIR/s2.log" '^listening'
}

teardown() {
	common_teardown
	dump_logs
}

# proxy COOKIE_LINE: two servers, cookies a and b, roundrobin.
proxy() {
	cfg_head "$LOGDIR/w.cfg" <<EOC
frontend fe
    bind 127.0.0.1:$FE
    default_backend be
backend be
    balance roundrobin
    $1
    server s1 127.0.0.1:$P1 cookie a
    server s2 127.0.0.1:$P2 cookie b
EOC
	start_wsplice "$LOGDIR/w.cfg" "${2:--dS}"
	wait_for_port "$FE"
}

get() {
	timeout 10 curl -s -D "$LOGDIR/h.out" "$@"
}

@test "cookie insert indirect nocache: set once, then the client sticks, the server never sees it" {
	proxy "cookie SRV insert indirect nocache httponly"
	local body name i
	body=$(get "http://127.0.0.1:$FE/id")
	name=${body%% *}
	cat "$LOGDIR/h.out"
	local want=a
	[ "$name" = s2 ] && want=b
	grep -qi "^set-cookie: SRV=$want; path=/; HttpOnly" "$LOGDIR/h.out"
	grep -qi '^cache-control: private' "$LOGDIR/h.out"
	# with the cookie, every request goes to that server, and is not told again (indirect)
	for i in 1 2 3 4; do
		body=$(get -H "Cookie: x=1; SRV=$want; y=2" "http://127.0.0.1:$FE/id")
		[ "${body%% *}" = "$name" ]
		refute grep -qi '^set-cookie' "$LOGDIR/h.out"
	done
	# the server sees the other cookies, not the balancer's
	[ "$(get -H "Cookie: x=1; SRV=$want; y=2" "http://127.0.0.1:$FE/hdr")" = "x=1; y=2" ]
	# a cookie for an unknown server is balanced and answered with a fresh one
	get -H "Cookie: SRV=zz" "http://127.0.0.1:$FE/id" >/dev/null
	grep -qi '^set-cookie: SRV=[ab]' "$LOGDIR/h.out"
}

@test "cookie rewrite and prefix change the server's own Set-Cookie, prefix comes back stripped" {
	proxy "cookie SRV rewrite"
	get "http://127.0.0.1:$FE/setcookie" >/dev/null
	cat "$LOGDIR/h.out"
	grep -Eqi '^set-cookie: SRV=[ab]; path=/' "$LOGDIR/h.out"
	stop_wsplice
	FE=$(free_port)
	proxy "cookie SRV prefix"
	local body v
	body=$(get "http://127.0.0.1:$FE/setcookie")
	v=$(sed -n 's/^[Ss]et-[Cc]ookie: SRV=\([^;]*\);.*/\1/p' "$LOGDIR/h.out" | tr -d '\r')
	echo "$body / $v"
	[[ "$v" =~ ^[ab]~orig$ ]]
	# the client sends it back: same server, and the server gets its own value
	local srv=s1
	[ "${v%%~*}" = b ] && srv=s2
	[ "$(get -H "Cookie: SRV=$v" "http://127.0.0.1:$FE/hdr")" = "SRV=orig" ]
	[ "$(get -H "Cookie: SRV=$v" "http://127.0.0.1:$FE/id" | cut -d' ' -f1)" = "$srv" ]
}

@test "cookie: the WebSocket upgrade follows the cookie too (both data paths)" {
	local mode
	WS1=$(free_port)
	WS2=$(free_port)
	bg w1 timeout 120 $PY "$PEERS/ws_echo.py" "$WS1"
	bg w2 timeout 120 $PY "$PEERS/ws_echo.py" "$WS2"
	wait_for_port "$WS1"
	wait_for_port "$WS2"
	for mode in user bpf; do
		FE=$(free_port)
		P1=$WS1 P2=$WS2 proxy "cookie SRV insert indirect" "$(path_args $mode)"
		local i
		for i in 1 2 3; do
			run timeout 10 $PY -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
          b"Cookie: SRV=b\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode())
' "$FE"
			[ "$output" = "HTTP/1.1 101 Switching Protocols" ]
		done
		wait_until 5 "[ \$(grep -c ' be/s2 .* 101 ' '$LOGDIR/wsplice.log') -ge 3 ]"
		refute grep -q ' be/s1 .* 101 ' "$LOGDIR/wsplice.log"
		stop_wsplice
	done
}
