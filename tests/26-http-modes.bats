#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# HTTP connection modes as HAProxy applies them (keep-alive, http-server-close, httpclose and
# their precedence), timeout http-keep-alive, http-reuse, and large bodies with flat memory.

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	HT=$(free_port)
	bg srv timeout 300 $PY "$PEERS/ka_server.py" "$HT"
	wait_for_log "$LOGDIR/srv.log" '^listening'
}

teardown() {
	common_teardown
	dump_logs
}

# proxy FRONTEND_LINES BACKEND_LINES [DEFAULTS_LINES]: the daemon with those lines added.
proxy() {
	cfg_head "$LOGDIR/w.cfg" defaults="${3:-}" <<EOC
frontend fe
    bind 127.0.0.1:$FE
${1:-}
    default_backend be
backend be
${2:-}
    server s1 127.0.0.1:$HT
EOC
	start_wsplice "$LOGDIR/w.cfg" -dS
	wait_for_port "$FE"
}

# two_requests: GET /id twice on one client connection; prints both bodies and whether curl
# reused its connection ("reused" lines come from curl -v).
two_requests() {
	timeout 10 curl -sv "http://127.0.0.1:$FE/id" "http://127.0.0.1:$FE/id" 2>"$LOGDIR/curl.err"
	grep -c 'Re-using existing connection' "$LOGDIR/curl.err" || true
}

@test "modes: keep-alive by default reuses the server connection for the same client" {
	proxy
	run two_requests
	echo "$output"
	[ "${lines[0]}" = "${lines[1]}" ]	# same server connection
	[ "${lines[2]}" = 1 ]			# same client connection
}

@test "modes: http-server-close: a new server connection per request, the client's stays" {
	proxy "" "    option http-server-close"
	run two_requests
	echo "$output"
	[ "${lines[0]}" != "${lines[1]}" ]
	[ "${lines[2]}" = 1 ]
}

@test "modes: httpclose closes the client connection after each response" {
	proxy "    option httpclose"
	run two_requests
	echo "$output"
	[ "${lines[0]}" != "${lines[1]}" ]
	[ "${lines[2]}" = 0 ]
	grep -qi '^< connection: close' "$LOGDIR/curl.err"
}

@test "modes: the most restrictive of frontend and backend wins; the last in a section wins" {
	proxy "    option http-keep-alive" "    option http-server-close"
	run two_requests
	[ "${lines[0]}" != "${lines[1]}" ]
	[ "${lines[2]}" = 1 ]
	stop_wsplice
	FE=$(free_port)
	proxy "    option http-keep-alive" "    option httpclose"
	run two_requests
	[ "${lines[2]}" = 0 ]
	stop_wsplice
	FE=$(free_port)
	proxy "" "$(printf '    option httpclose\n    option http-keep-alive')"
	run two_requests
	echo "$output"
	[ "${lines[0]}" = "${lines[1]}" ]
	[ "${lines[2]}" = 1 ]
}

@test "modes: timeout http-keep-alive closes an idle kept-alive connection without a word" {
	proxy "    timeout http-keep-alive 300ms
    timeout http-request 5s"
	local t0 out
	t0=$(date +%s%N)
	out=$(timeout 10 $PY -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /id HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while b"conn=" not in data:
    data += s.recv(4096)
rest = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    rest += d
print("after=%r" % rest)
' "$FE")
	local ms=$((($(date +%s%N) - t0) / 1000000))
	echo "$out, closed after $ms ms"
	[ "$out" = "after=b''" ]
	[ "$ms" -ge 250 ] && [ "$ms" -lt 3000 ]
}

# one_request: GET /id on a fresh client connection.
one_request() {
	timeout 10 curl -s "http://127.0.0.1:$FE/id"
}

@test "modes: http-reuse: always shares idle server connections, safe not for a first request" {
	proxy "" "    http-reuse always"
	[ "$(one_request)" = "conn=1" ]
	# another client's first request takes the idle connection the first one left
	[ "$(one_request)" = "conn=1" ]
	stop_wsplice
	FE=$(free_port)
	proxy
	local first
	first=$(one_request)
	# safe (the default): a client's first request gets a connection of its own ...
	run two_requests
	echo "$first / $output"
	[ "${lines[0]}" != "$first" ]
	# ... and its next request may take an idle one
	[ "${lines[2]}" = 1 ]
	stop_wsplice
	FE=$(free_port)
	proxy "" "    http-reuse never"
	first=$(one_request)
	[ "$(one_request)" != "$first" ]
	sed -i 's/http-reuse never/http-reuse sometimes/' "$LOGDIR/w.cfg"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/w.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"parsing ["*"w.cfg:"*"] : 'http-reuse' only supports"* ]]
}

@test "bodies: 1 GiB download and 1 GiB chunked upload stream with flat daemon memory" {
	proxy
	local rss=0 r n
	bg rss sh -c "while :; do awk '/^VmRSS:/ { print \$2 }' /proc/$DAEMON_PID/status; sleep 0.1; done"
	n=$(timeout 120 curl -s "http://127.0.0.1:$FE/big?n=1073741824" | wc -c)
	[ "$n" -eq 1073741824 ]
	r=$(head -c 1073741824 /dev/zero | timeout 120 curl -s -T - -H 'Transfer-Encoding: chunked' \
		-X POST "http://127.0.0.1:$FE/count")
	[ "$r" = 1073741824 ]
	rss=$(sort -n "$LOGDIR/rss.log" | tail -n1)
	echo "daemon RSS at most $rss KiB"
	rss_ok "$rss" $((32 * 1024))
}

@test "bodies: HEAD, 204 and 304 carry no body to the client even when a broken server sends one" {
	local BB
	BB=$(free_port)
	bg bb timeout 60 $PY "$PEERS/broken_body_server.py" "$BB"
	wait_for_log "$LOGDIR/bb.log" '^listening'
	HT=$BB proxy
	# all on one client connection: each response must end where HTTP says, or the next one
	# would start with "BROKE"
	run timeout 10 $PY -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
sys.stdout.write(data.decode().replace("\r", ""))
' "$FE"
	echo "$output"
	refute grep -q BROKE <<<"$output"
	[ "$(grep -c '^HTTP/1.1 ' <<<"$output")" -eq 4 ]
	grep -q '^HTTP/1.1 204 No Content' <<<"$output"
	grep -q '^HTTP/1.1 304 Not Modified' <<<"$output"
	[ "${lines[${#lines[@]} - 1]}" = fine ]
}
