#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The HTTP side of wsplice, end to end: WebSocket upgrades with python3-websockets, requests the
# proxy must reject itself, broken server answers, routing, and plain HTTP bodies relayed
# byte-exact. Every test runs on both data paths: the BPF splice and the userspace relay (-dS).

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
	UPGRADE="GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

teardown() {
	common_teardown
	dump_logs
}

# start_proxy MODE [TUNNEL_TIMEOUT]: wsplice with the standard configuration on data path MODE.
start_proxy() {
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT" "${2:-1h}" "" "    log-format \"$LOGFMT_U\""
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"
}

# start_bad NAME PORT MODE [ARGS...]: bad_server.py recording into $LOGDIR/NAME.rec.
start_bad() {
	local name=$1 port=$2 mode=$3
	shift 3
	bg "$name" timeout 120 $PY "$PEERS/bad_server.py" "$port" "$mode" --record "$LOGDIR/$name.rec" "$@"
	wait_for_log "$LOGDIR/$name.log" '^listening'
}

# send_raw NAME REQUEST_PRINTF...: sends each printf-formatted request on one connection with
# http_raw.py; the responses go to $LOGDIR/NAME.out.
send_raw() {
	local name=$1 i=0 files=()
	shift
	for req in "$@"; do
		i=$((i + 1))
		printf "$req" >"$LOGDIR/$name.req$i"
		files+=("$LOGDIR/$name.req$i")
	done
	timeout 20 $PY "$PEERS/http_raw.py" "$FE" "${files[@]}" >"$LOGDIR/$name.out"
}

# log_line REGEX: waits for a log line matching REGEX from the daemon.
log_line() {
	wait_for_log "$LOGDIR/wsplice.log" "$1" 5
}

# body_of FILE N: the body of the Nth HTTP response in FILE (as http_raw.py wrote it).
body_of() {
	$PY - "$1" "$2" <<'EOF'
import sys
data, n = open(sys.argv[1], "rb").read(), int(sys.argv[2])
for _ in range(n):
    head, data = data.split(b"\r\n\r\n", 1)
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
              if l.lower().startswith(b"content-length:")][0]
    body, data = data[:length], data[length:]
sys.stdout.buffer.write(body)
EOF
}

# --- a valid upgrade, messages both ways ---------------------------------------------------------

upgrade_echo() {
	need_bpf "$1"
	bg echo timeout 120 $PY "$PEERS/ws_echo.py" "$WS" --name s1 --hello "sent by the server right after its 101"
	wait_for_log "$LOGDIR/echo.log" '^listening'
	start_proxy "$1"

	run timeout 60 $PY "$PEERS/ws_client.py" "ws://127.0.0.1:$FE/ws/echo" --count 24 --size 200000 \
		--expect-hello "sent by the server right after its 101"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^ok\ 24\ messages\ ([0-9]+)\ bytes ]]
	local payload=${BASH_REMATCH[1]}
	grep -q '^open s1 /ws/echo$' "$LOGDIR/echo.log"

	# The log line at close: a 101, a normal close, and byte counts that include the tunnel bytes
	# (the payload plus at most 14 bytes of framing per message and the heads).
	log_line 'fe_main websocket_servers/s1 [-0-9]+/[-0-9]+/[-0-9]+/[-0-9]+/[0-9]+ 101 [0-9]+ [0-9]+ ---- .*"GET /ws/echo HTTP/1.1"'
	local line to_cli from_cli
	line=$(grep -E ' 101 [0-9]+ [0-9]+ ---- .*"GET /ws/echo HTTP/1.1"' "$LOGDIR/wsplice.log")
	read -r to_cli from_cli < <(echo "$line" | sed -E 's/.* 101 ([0-9]+) ([0-9]+) ----.*/\1 \2/')
	echo "payload $payload, logged to client $to_cli, from client $from_cli"
	[ "$to_cli" -ge "$payload" ]
	[ "$to_cli" -le $((payload + 4096)) ]
	[ "$from_cli" -ge "$payload" ]
	[ "$from_cli" -le $((payload + 4096)) ]
	[ "$(info CumTunnels)" -ge 1 ]
}

@test "upgrade with python3-websockets, messages both ways, server-first message (bpf)" {
	upgrade_echo bpf
}

@test "upgrade with python3-websockets, messages both ways, server-first message (userspace)" {
	upgrade_echo user
}

# --- requests the proxy rejects itself -------------------------------------------------------------

# rejected MODE NAME REQUEST: wsplice answers 400 itself, closes, logs PR-- and the server saw nothing.
rejected() {
	need_bpf "$1"
	start_bad srv "$WS" raw101
	start_proxy "$1"
	send_raw "$2" "$3"
	cat "$LOGDIR/$2.out"
	head -n1 "$LOGDIR/$2.out" | grep -q $'^HTTP/1.1 400 Bad request\r$'
	grep -qi $'^content-type: text/html\r$' "$LOGDIR/$2.out"
	grep -qi $'^connection: close\r$' "$LOGDIR/$2.out"
	grep -qF '<html><body><h1>400 Bad request</h1>' "$LOGDIR/$2.out"
	grep -qF 'Your browser sent an invalid request.' "$LOGDIR/$2.out"
	[ "$(tail -n1 "$LOGDIR/$2.out")" = "## closed" ]
	log_line ' 400 .* PR-- '
	[ -z "$(ls -A "$LOGDIR/srv.rec")" ]
	[ "$(info CumTunnels)" -eq 0 ]
}

NOKEY="GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
# 23 characters: a base64 key of 16 bytes is 24.
SHORTKEY="GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\nSec-WebSocket-Version: 13\r\n\r\n"
LONGKEY="GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==AAAA\r\nSec-WebSocket-Version: 13\r\n\r\n"
NOCONN="GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

@test "missing Sec-WebSocket-Key -> 400 (bpf)" {
	rejected bpf nokey "$NOKEY"
}

@test "missing Sec-WebSocket-Key -> 400 (userspace)" {
	rejected user nokey "$NOKEY"
}

@test "Sec-WebSocket-Key of the wrong length -> 400 (bpf)" {
	rejected bpf shortkey "$SHORTKEY"
	send_raw longkey "$LONGKEY"
	head -n1 "$LOGDIR/longkey.out" | grep -q $'^HTTP/1.1 400 Bad request\r$'
}

@test "Sec-WebSocket-Key of the wrong length -> 400 (userspace)" {
	rejected user shortkey "$SHORTKEY"
	send_raw longkey "$LONGKEY"
	head -n1 "$LOGDIR/longkey.out" | grep -q $'^HTTP/1.1 400 Bad request\r$'
}

@test "Upgrade: websocket without Connection: upgrade -> 400 (bpf)" {
	rejected bpf noconn "$NOCONN"
}

@test "Upgrade: websocket without Connection: upgrade -> 400 (userspace)" {
	rejected user noconn "$NOCONN"
}

# --- Sec-WebSocket-Version: the server's business, not the proxy's --------------------------------

# HAProxy 2.6.12, run on these bytes (std_cfg, bad_server.py raw101 behind it): the version header
# is not looked at. Missing, 8, 13, garbage ("banana"), a list ("13, 8"), empty or repeated: the
# request reaches the server with the header as the client wrote it (HAProxy lower-cases the
# names), the server's 101 reaches the client, the tunnel carries bytes both ways and the log line
# is an ordinary "101 ... ----" one. RFC 6455 4.2.2 makes the version a matter between client and
# server (a server that does not speak it answers 426 with the versions it does), so a proxy that
# refused here would refuse what the server accepts. wsplice must forward exactly as HAProxy does.
VERSIONS=("" "Sec-WebSocket-Version: 8\r\n" "Sec-WebSocket-Version: 13\r\n"
	"Sec-WebSocket-Version: banana\r\n" "Sec-WebSocket-Version: 13, 8\r\n"
	"Sec-WebSocket-Version: \r\n" "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 8\r\n")

# tunnel_exchange REQFILE OUTFILE N: sends the request, reads the 101 head and the server's bytes
# after it, sends N bytes into the tunnel and reads their echo; writes every byte received to
# OUTFILE, then closes.
tunnel_exchange() {
	timeout 20 $PY - "$FE" "$1" "$2" "$3" <<'EOF'
import socket, sys
port, req, out, n = int(sys.argv[1]), open(sys.argv[2], "rb").read(), sys.argv[3], int(sys.argv[4])
after = b"raw bytes after the 101\n"
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(req)
got = b""
while b"\r\n\r\n" not in got or not got.endswith(after):
    d = s.recv(65536)
    if not d:
        break
    got += d
payload = bytes(i * 7 % 251 for i in range(n))
s.sendall(payload)
want = len(got) + n
while len(got) < want:
    d = s.recv(65536)
    if not d:
        break
    got += d
open(out, "wb").write(got)
s.close()
EOF
}

any_version() {
	need_bpf "$1"
	start_bad srv "$WS" raw101
	start_proxy "$1"
	local head="GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	local h101="HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
	local i=0 v reqlen n=3000
	for v in "${VERSIONS[@]}"; do
		i=$((i + 1))
		printf "$head$v\r\n" >"$LOGDIR/v$i.req"
		{
			printf "$h101"
			printf 'raw bytes after the 101\n'
			$PY -c "import sys; sys.stdout.buffer.write(bytes(i * 7 % 251 for i in range($n)))"
		} >"$LOGDIR/v$i.want"
		tunnel_exchange "$LOGDIR/v$i.req" "$LOGDIR/v$i.out" "$n"
		echo "case $i: $v"
		# the client gets the server's 101 byte for byte, then the tunnel both ways
		cmp "$LOGDIR/v$i.out" "$LOGDIR/v$i.want"
		# the server got the request as the client wrote it: the version lines untouched
		cmp "$LOGDIR/srv.rec/$i.head" "$LOGDIR/v$i.req"
		# an ordinary tunnel's log line: the 129-byte head, the 24 bytes after it and the echo
		# to the client; the request and the bytes sent from it (HAProxy counts its HTX form
		# of the heads: 3 more to the client)
		reqlen=$(stat -c %s "$LOGDIR/v$i.req")
		wait_until 10 "grep -q ' 101 $((129 + 24 + n)) $((reqlen + n)) ---- ' '$LOGDIR/wsplice.log'"
		[ "$(info CumTunnels)" -eq "$i" ]
	done
	[ "$(grep -c 'fe_main websocket_servers/s1 .* 101 .* ---- .*"GET /ws/chat HTTP/1.1"' "$LOGDIR/wsplice.log")" -eq ${#VERSIONS[@]} ]
	# no request refused (wait_for_port's empty connection is the one "<BADREQ> CR--" line)
	refute grep -q ' PR-- ' "$LOGDIR/wsplice.log"
}

@test "Sec-WebSocket-Version missing, 8, 13, garbage, a list, empty, twice: forwarded, tunnel made (bpf)" {
	any_version bpf
}

@test "Sec-WebSocket-Version missing, 8, 13, garbage, a list, empty, twice: forwarded, tunnel made (userspace)" {
	any_version user
}

# A server that speaks only version 13 (RFC 6455 4.4) answers version 8 with 426 and the versions
# it takes; the 426 is relayed as an ordinary response, the connection stays HTTP and the client's
# retry with version 13 on it is upgraded. HAProxy 2.6.12 gave the same bytes (names lower-cased)
# and the log lines "426 86 ... ----" and "101 132 ... ----" (wsplice: 79 and 129, the wire bytes).
version_retry() {
	need_bpf "$1"
	start_bad srv "$WS" ws13 --after ''
	start_proxy "$1"
	local head="GET /ws/chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	send_raw retry "${head}Sec-WebSocket-Version: 8\r\n\r\n" "${head}Sec-WebSocket-Version: 13\r\n\r\n"
	cat -v "$LOGDIR/retry.out"
	printf 'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\n## open\n' >"$LOGDIR/retry.want"
	cmp "$LOGDIR/retry.out" "$LOGDIR/retry.want"
	grep -q $'^Sec-WebSocket-Version: 8\r$' "$LOGDIR/srv.rec/1.head"
	grep -q $'^Sec-WebSocket-Version: 13\r$' "$LOGDIR/srv.rec/2.head"
	log_line 'fe_main websocket_servers/s1 .* 426 79 .* ---- .*"GET /ws/chat HTTP/1.1"'
	[ "$(info CumTunnels)" -eq 1 ]
}

@test "server 426 to Sec-WebSocket-Version 8: relayed, the retry with 13 on the same connection upgrades (bpf)" {
	version_retry bpf
}

@test "server 426 to Sec-WebSocket-Version 8: relayed, the retry with 13 on the same connection upgrades (userspace)" {
	version_retry user
}

# --- broken server answers --------------------------------------------------------------------------

no_accept() {
	need_bpf "$1"
	start_bad srv "$WS" noaccept
	start_proxy "$1"
	send_raw up "$UPGRADE"
	cat "$LOGDIR/up.out"
	head -n1 "$LOGDIR/up.out" | grep -q $'^HTTP/1.1 502 Bad Gateway\r$'
	grep -qF '<html><body><h1>502 Bad Gateway</h1>' "$LOGDIR/up.out"
	# The server's 101 must not leak to the client.
	refute grep -qi 'switching protocols' "$LOGDIR/up.out"
	log_line ' 502 .* PH-- .*"GET /ws/chat HTTP/1.1"'
	# The request did reach the server, with its key.
	grep -qi $'^Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r$' "$LOGDIR/srv.rec/1.head"
	[ "$(info CumTunnels)" -eq 0 ]
}

@test "server 101 without Sec-WebSocket-Accept -> 502 to the client (bpf)" {
	no_accept bpf
}

@test "server 101 without Sec-WebSocket-Accept -> 502 to the client (userspace)" {
	no_accept user
}

# A 403 to an upgrade is relayed with its body, and the connection stays HTTP: a second request
# on it is parsed as HTTP and reaches a fresh server connection (bad_server closes after each 403;
# a tunnel would have died with it).
forbidden() {
	need_bpf "$1"
	start_bad srv "$WS" forbidden
	start_proxy "$1"
	send_raw fb "$UPGRADE" "GET /ws/second HTTP/1.1\r\nHost: localhost\r\n\r\n"
	cat -v "$LOGDIR/fb.out"
	head -n1 "$LOGDIR/fb.out" | grep -q $'^HTTP/1.1 403 Forbidden\r$'
	body_of "$LOGDIR/fb.out" 1 >"$LOGDIR/body1"
	$PY -c "import sys; sys.path.insert(0, '$PEERS'); import bad_server; sys.stdout.buffer.write(bad_server.FORBIDDEN_BODY)" >"$LOGDIR/want"
	cmp "$LOGDIR/body1" "$LOGDIR/want"
	body_of "$LOGDIR/fb.out" 2 >"$LOGDIR/body2"
	cmp "$LOGDIR/body2" "$LOGDIR/want"
	[ "$(tail -n1 "$LOGDIR/fb.out")" = "## open" ]
	head -n1 "$LOGDIR/srv.rec/2.head" | grep -q $'^GET /ws/second HTTP/1.1\r$'
	refute grep -qi '^upgrade:' "$LOGDIR/srv.rec/2.head"
	log_line ' 403 .*"GET /ws/chat HTTP/1.1"'
	log_line ' 403 .*"GET /ws/second HTTP/1.1"'
	[ "$(info CumTunnels)" -eq 0 ]
}

@test "server 403 to an upgrade: relayed with its body, connection stays HTTP (bpf)" {
	forbidden bpf
}

@test "server 403 to an upgrade: relayed with its body, connection stays HTTP (userspace)" {
	forbidden user
}

# --- routing ----------------------------------------------------------------------------------------

routing() {
	need_bpf "$1"
	bg echo timeout 120 $PY "$PEERS/ws_echo.py" "$WS" --name s1
	wait_for_log "$LOGDIR/echo.log" '^listening'
	start_bad http "$HT" cl --size 5000
	start_proxy "$1"

	timeout 10 curl -sS -o "$LOGDIR/get.out" "http://127.0.0.1:$FE/index.html"
	$PY -c "import sys; sys.path.insert(0, '$PEERS'); import bad_server; sys.stdout.buffer.write(bad_server.body_pattern(5000))" >"$LOGDIR/want"
	cmp "$LOGDIR/get.out" "$LOGDIR/want"
	head -n1 "$LOGDIR/http.rec/1.head" | grep -q $'^GET /index.html HTTP/1.1\r$'
	log_line 'fe_main http_servers/h1 .* 200 [0-9]+ .*"GET /index.html HTTP/1.1"'

	run timeout 30 $PY "$PEERS/ws_client.py" "ws://127.0.0.1:$FE/ws/route" --count 3 --size 100
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^open s1 /ws/route$' "$LOGDIR/echo.log"
	log_line 'fe_main websocket_servers/s1 .* 101 .*"GET /ws/route HTTP/1.1"'
	# The upgrade did not reach the http backend, the plain GET did not reach the ws backend.
	[ ! -e "$LOGDIR/http.rec/2.head" ]
	[ "$(grep -c '^open' "$LOGDIR/echo.log")" -eq 1 ]
}

@test "routing: use_backend on path_beg /ws, default_backend for the rest (bpf)" {
	routing bpf
}

@test "routing: use_backend on path_beg /ws, default_backend for the rest (userspace)" {
	routing user
}

# --- plain HTTP bodies ------------------------------------------------------------------------------

# Three backends, one per response framing; curl GETs and POSTs (Content-Length and chunked).
bodies() {
	need_bpf "$1"
	local p_cl p_ch p_close mode path n=0
	p_cl=$(free_port)
	p_ch=$(free_port)
	p_close=$(free_port)
	start_bad cl "$p_cl" cl --size 1048576
	start_bad chunked "$p_ch" chunked --size 1048576
	start_bad close "$p_close" close --size 1048576
	cfg_head "$LOGDIR/wsplice.cfg" log-format="$LOGFMT_U" <<EOF
frontend fe_main
    bind 127.0.0.1:$FE
    use_backend b_cl if { path_beg /cl/ }
    use_backend b_chunked if { path_beg /chunked/ }
    default_backend b_close
backend b_cl
    server cl 127.0.0.1:$p_cl
backend b_chunked
    server chunked 127.0.0.1:$p_ch
backend b_close
    server close 127.0.0.1:$p_close
EOF
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"

	$PY -c "import sys; sys.path.insert(0, '$PEERS'); import bad_server; sys.stdout.buffer.write(bad_server.body_pattern(1048576))" >"$LOGDIR/pattern"
	head -c 3000001 /dev/urandom >"$LOGDIR/upload"
	for mode in cl chunked close; do
		path=/$mode/file
		timeout 20 curl -sS -o "$LOGDIR/$mode.get" "http://127.0.0.1:$FE$path"
		cmp "$LOGDIR/$mode.get" "$LOGDIR/pattern"
		log_line "fe_main b_$mode/$mode .* 200 [0-9]+ .*\"GET $path HTTP/1.1\""
		# Bytes to the client: the 1 MiB body and the head (and the chunk framing, if any).
		n=$(grep -E "\"GET $path HTTP/1.1\"" "$LOGDIR/wsplice.log" | sed -E 's/.* 200 ([0-9]+) .*/\1/')
		[ "$n" -ge 1048576 ]
		[ "$n" -le $((1048576 * 2)) ]

		# Content-Length upload; the server echoes the body it decoded.
		timeout 20 curl -sS -o "$LOGDIR/$mode.post" --data-binary "@$LOGDIR/upload" \
			-H 'Content-Type: application/octet-stream' -H 'Expect:' "http://127.0.0.1:$FE$path?cl"
		cmp "$LOGDIR/$mode.post" "$LOGDIR/upload"
		cmp "$LOGDIR/$mode.rec/2.body" "$LOGDIR/upload"
		grep -qi $'^content-length: 3000001\r$' "$LOGDIR/$mode.rec/2.head"
		log_line "fe_main b_$mode/$mode .* 200 [0-9]+ .*\"POST $path\\?cl HTTP/1.1\""

		# Chunked upload.
		timeout 20 curl -sS -o "$LOGDIR/$mode.chunked" --data-binary "@$LOGDIR/upload" \
			-H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' -H 'Expect:' \
			"http://127.0.0.1:$FE$path?chunked"
		cmp "$LOGDIR/$mode.chunked" "$LOGDIR/upload"
		cmp "$LOGDIR/$mode.rec/3.body" "$LOGDIR/upload"
		log_line "fe_main b_$mode/$mode .* 200 [0-9]+ [0-9]+ .*\"POST $path\\?chunked HTTP/1.1\""
	done
	# Bytes from the client in the log include the 3000001-byte upload.
	local from
	from=$(grep -E '"POST /cl/file\?cl HTTP/1.1"' "$LOGDIR/wsplice.log" | sed -E 's/.* 200 [0-9]+ ([0-9]+) .*/\1/')
	[ "$from" -ge 3000001 ]
}

@test "plain GET/POST with Content-Length, chunked and close-delimited bodies, byte-exact (bpf)" {
	bodies bpf
}

@test "plain GET/POST with Content-Length, chunked and close-delimited bodies, byte-exact (userspace)" {
	bodies user
}

# held_segs FRONTEND_LINE BACKEND_LINE: one tunnel through a frontend and a backend with those
# lines (-dS), held open by a client that sends nothing for 1.5 s after the 101; sets CLI_SEGS and
# SRV_SEGS to the TCP segments the daemon's client-side and server-side sockets sent by then
# (ss's segs_out), once their delayed ACKs are out.
held_segs() {
	FE=$(free_port)
	WS=$(free_port)
	cfg_head "$LOGDIR/segs.cfg" <<EOC
frontend fe
    bind 127.0.0.1:$FE
$1
    default_backend be
backend be
$2
    server s1 127.0.0.1:$WS
EOC
	start_wsplice "$LOGDIR/segs.cfg" -dS
	wait_for_port "$FE"
	bg srv timeout 30 "$STREAM" server "$WS" --timeout 20 --recv 1
	wait_for_port "$WS"
	bg cli timeout 30 "$STREAM" client "127.0.0.1:$FE" --timeout 20 --send 1 --delay 1500
	sleep 1
	ss -tinH state established "( sport = :$FE or dport = :$WS )" >"$LOGDIR/ss.out"
	cat "$LOGDIR/ss.out"
	CLI_SEGS=$(segs_out 3 "127.0.0.1:$FE")
	SRV_SEGS=$(segs_out 4 "127.0.0.1:$WS")
	echo "daemon sent: $CLI_SEGS segments to the client, $SRV_SEGS to the server"
	wait "$cli_PID"
	wait "$srv_PID"
	stop_wsplice
}

# segs_out COLUMN ADDR: segs_out of the socket in $LOGDIR/ss.out whose local (3) or peer (4)
# address is ADDR; ss prints each socket's addresses, then its counters on the next line.
segs_out() {
	awk -v col="$1" -v a="$2" '$col == a { getline; if (match($0, /segs_out:[0-9]+/))
		print substr($0, RSTART + 9, RLENGTH - 9) }' "$LOGDIR/ss.out"
}

# HAProxy's two ACK savings: in mode http the request is acknowledged with the response, not on
# its own ("option tcp-smart-accept", automatic there, off with "no"); "option
# tcp-smart-connect" sends the handshake's last ACK with the request.
@test "tcp-smart-accept by default in mode http, off with 'no'; tcp-smart-connect: one ACK less each" {
	local cli_auto srv_auto cli_off
	held_segs "" ""
	cli_auto=$CLI_SEGS srv_auto=$SRV_SEGS
	held_segs "    no option tcp-smart-accept" "    option tcp-smart-connect"
	cli_off=$CLI_SEGS
	[ -n "$cli_auto" ] && [ -n "$srv_auto" ] && [ -n "$cli_off" ] && [ -n "$SRV_SEGS" ]
	# the 101 alone, against an ACK of the request and then the 101
	[ "$cli_off" -eq $((cli_auto + 1)) ]
	# SYN, request (with the handshake's ACK), ACK of the 101: one less than with its own ACK
	[ "$SRV_SEGS" -eq $((srv_auto - 1)) ]
}
