#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# HTTP/1.1 as HAProxy 2.6 proxies it: request smuggling checks (Transfer-Encoding against
# Content-Length, duplicate lengths and hosts, invalid characters), broken server answers,
# hop-by-hop headers. Each expected answer was first taken from haproxy 2.6 with the same
# request. Plain HTTP only, so the userspace data path (-dS) is enough.

setup_file() {
	load helpers
}

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	HT=$(free_port)
}

teardown() {
	common_teardown
	dump_logs
}

# start_proxy [FRONTEND_EXTRA]: one frontend, one backend at $HT.
start_proxy() {
	cfg_head "$LOGDIR/wsplice.cfg" <<EOC
frontend fe
    bind 127.0.0.1:$FE
${1:-}
    default_backend be
backend be
    server s1 127.0.0.1:$HT
EOC
	start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_for_port "$FE"
}

# start_srv MODE: bad_server.py in MODE at $HT, requests recorded in $LOGDIR/srv.rec.
start_srv() {
	bg srv timeout 120 $PY "$PEERS/bad_server.py" "$HT" "$1" --record "$LOGDIR/srv.rec" --size 10
	wait_for_log "$LOGDIR/srv.log" '^listening'
}

# send_raw NAME REQUEST_PRINTF...: the requests on one connection; responses in $LOGDIR/NAME.out.
send_raw() {
	local name=$1 i=0 files=()
	shift
	for req in "$@"; do
		i=$((i + 1))
		printf "$req" >"$LOGDIR/$name.req$i"
		files+=("$LOGDIR/$name.req$i")
	done
	timeout 20 $PY "$PEERS/http_raw.py" "$FE" "${files[@]}" >"$LOGDIR/$name.out" || true
	cat "$LOGDIR/$name.out"
}

# status_line NAME: the first line of NAME's first response, without CR.
status_line() {
	head -n1 "$LOGDIR/$1.out" | tr -d '\r'
}

# expect_400 NAME REQUEST: wsplice answers HAProxy's 400 itself, closes, and the server saw nothing.
expect_400() {
	send_raw "$1" "$2"
	[ "$(status_line "$1")" = "HTTP/1.1 400 Bad request" ]
	grep -qF 'Your browser sent an invalid request.' "$LOGDIR/$1.out"
	[ "$(tail -n1 "$LOGDIR/$1.out")" = "## closed" ]
	[ -z "$(ls -A "$LOGDIR/srv.rec")" ]
}

# --- Transfer-Encoding and Content-Length ---------------------------------------------------------

@test "TE chunked + Content-Length: TE wins, CL dropped, both connections close after" {
	start_srv cl
	start_proxy
	send_raw tecl "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	[ "$(status_line tecl)" = "HTTP/1.1 200 OK" ]
	grep -qi $'^connection: close\r$' "$LOGDIR/tecl.out"
	[ "$(tail -n1 "$LOGDIR/tecl.out")" = "## closed" ]
	cat "$LOGDIR/srv.rec/1.head"
	refute grep -qi '^content-length' "$LOGDIR/srv.rec/1.head"
	grep -qi $'^transfer-encoding: chunked\r$' "$LOGDIR/srv.rec/1.head"
	grep -qi $'^connection: close\r$' "$LOGDIR/srv.rec/1.head"
	[ "$(cat "$LOGDIR/srv.rec/1.body")" = abc ]
}

@test "TE gzip, chunked -> HAProxy's 422 page" {
	start_srv cl
	start_proxy
	send_raw gz "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
	local want
	want=$(printf 'HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n\n## closed')
	[ "$(cat "$LOGDIR/gz.out")" = "$want" ]
	[ -z "$(ls -A "$LOGDIR/srv.rec")" ]
}

@test "TE gzip alone -> 400" {
	start_srv cl
	start_proxy
	expect_400 gz "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"
}

@test "TE chunked, chunked -> 400" {
	start_srv cl
	start_proxy
	expect_400 cc "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"
}

@test "two different Content-Length -> 400" {
	start_srv cl
	start_proxy
	expect_400 cl2 "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
}

@test "identical Content-Length twice: accepted, forwarded once" {
	start_srv cl
	start_proxy
	send_raw cl2 "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"
	[ "$(status_line cl2)" = "HTTP/1.1 200 OK" ]
	[ "$(grep -ci '^content-length' "$LOGDIR/srv.rec/1.head")" -eq 1 ]
	[ "$(cat "$LOGDIR/srv.rec/1.body")" = ab ]
	[ "$(tail -n1 "$LOGDIR/cl2.out")" = "## open" ]
}

@test "Content-Length '0,' or empty -> 400" {
	start_srv cl
	start_proxy
	expect_400 comma "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0,\r\n\r\n"
	expect_400 empty "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"
}

# --- invalid characters, Host ---------------------------------------------------------------------

@test "invalid characters in method, URI, header name -> 400" {
	start_srv cl
	start_proxy
	expect_400 method "G(T / HTTP/1.1\r\nHost: a\r\n\r\n"
	expect_400 uri "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"
	expect_400 del "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"
	expect_400 name "GET / HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n"
	# stricter than HAProxy 2.6, which forwards both: llhttp's strict mode
	expect_400 ctl "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n"
	expect_400 cllist "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab"
}

@test "two different Host -> 400; the same Host twice is forwarded once" {
	start_srv cl
	start_proxy
	expect_400 host2 "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
	send_raw same "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"
	[ "$(status_line same)" = "HTTP/1.1 200 OK" ]
	[ "$(grep -ci '^host:' "$LOGDIR/srv.rec/1.head")" -eq 1 ]
}

@test "absolute URI whose authority is not the Host -> 400; the same one passes" {
	start_srv cl
	start_proxy
	expect_400 abs "GET http://foo/bar HTTP/1.1\r\nHost: x\r\n\r\n"
	send_raw ok "GET http://foo/bar HTTP/1.1\r\nHost: foo\r\n\r\n"
	[ "$(status_line ok)" = "HTTP/1.1 200 OK" ]
}

# --- broken servers -------------------------------------------------------------------------------

@test "invalid status line from the server -> 502" {
	start_srv garbage
	start_proxy
	send_raw bad "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(status_line bad)" = "HTTP/1.1 502 Bad Gateway" ]
	grep -qF 'The server returned an invalid or incomplete response.' "$LOGDIR/bad.out"
	wait_for_log "$LOGDIR/wsplice.log" ' 502 .* PH-- '
}

@test "server closing before the end of its head -> 502" {
	start_srv halfhead
	start_proxy
	send_raw half "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(status_line half)" = "HTTP/1.1 502 Bad Gateway" ]
	wait_for_log "$LOGDIR/wsplice.log" ' 502 .* SH-- '
}

@test "server response chunked with a Content-Length: CL dropped, server connection not reused" {
	start_srv tecl
	start_proxy
	send_raw tecl "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n" "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(grep -c '^HTTP/1.1 200 OK' "$LOGDIR/tecl.out")" -eq 2 ]
	refute grep -qi '^content-length' "$LOGDIR/tecl.out"
	[ "$(tail -n1 "$LOGDIR/tecl.out")" = "## open" ]
	# the server connection closed after each response: none stays idle for reuse
	command -v ss >/dev/null || skip "ss (iproute2) is not installed"
	wait_until 5 '[ "$(ss -Htn state established "( dport = :$HT )" | wc -l)" -eq 0 ]'
}

@test "server response with two different Content-Length -> 502" {
	start_srv cl2
	start_proxy
	send_raw cl2 "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(status_line cl2)" = "HTTP/1.1 502 Bad Gateway" ]
}

# --- the proxy's own 502, 503 and 504 keep the client connection -------------------------------------

# start_err_proxy [OPTION]: /none -> a backend whose only server refuses (retries 0), /bad -> a
# server that answers garbage, /slow -> one that does not answer within timeout server 1s, the
# rest -> a working keep-alive server (ka_server.py at $HT, "conn=N"). OPTION goes to defaults.
start_err_proxy() {
	local dead bad slow
	dead=$(free_port)
	bad=$(free_port)
	slow=$(free_port)
	bg srv timeout 120 $PY "$PEERS/ka_server.py" "$HT"
	bg badsrv timeout 120 $PY "$PEERS/bad_server.py" "$bad" garbage
	bg slowsrv timeout 120 $PY "$PEERS/slow_server.py" "$slow" 60
	cfg_head "$LOGDIR/wsplice.cfg" defaults="${1:+    $1}" <<EOC
frontend fe
    bind 127.0.0.1:$FE
    http-request deny if { path_beg /deny }
    http-request return status 200 content-type text/plain string hi if { path_beg /ret }
    http-response set-header X-Pad $(printf 'p%.0s' {1..400}) if { path_beg /long }
    use_backend b_none if { path_beg /none } || { path_beg /ws }
    use_backend b_bad if { path_beg /bad }
    use_backend b_slow if { path_beg /slow }
    default_backend be
backend b_none
    retries 0
    server dead 127.0.0.1:$dead
backend b_bad
    server bad 127.0.0.1:$bad
backend b_slow
    timeout server 1s
    server slow 127.0.0.1:$slow
backend be
    server s1 127.0.0.1:$HT
EOC
	wait_for_port "$HT"
	wait_for_port "$bad"
	wait_for_port "$slow"
	start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_for_port "$FE"
}

# HAProxy 2.6's pages when it keeps the connection: lower-case, no Connection header.
P503='HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n'
P502='HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n'
P504='HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn'"'"'t respond in time.\n</body></html>\n'

# ok_resp: ka_server's answer as wsplice forwards it, normalised as norm does.
ok_resp() {
	printf 'HTTP/1.1 200 OK\r\nServer: X\r\nContent-Length: 7\r\n\r\nconn=N\n'
}

# norm NAME: NAME's responses without the server's Date, its Server and connection number
# blanked out (which pooled connection a request finds is not the point here).
norm() {
	sed -e 's/^Server: .*\r$/Server: X\r/' -e '/^Date: /d' -e 's/^conn=[0-9]$/conn=N/' "$LOGDIR/$1.out"
}

# keepalive_errors NAME: 503, 502 and 504 on one connection, each followed by a request that
# the working server answers; the server connection after each error is a new one (conn=1..3 on
# the working server: nothing of the failed one is used), and the client connection stays.
keepalive_errors() {
	local R='GET /id HTTP/1.1\r\nHost: a\r\n\r\n'
	send_raw "$1" "GET /none HTTP/1.1\r\nHost: a\r\n\r\n" "$R" "GET /bad HTTP/1.1\r\nHost: a\r\n\r\n" \
		"$R" "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n" "$R"
}

@test "the proxy's own 503, 502, 504 keep the client connection, HAProxy's bytes, one log line each" {
	start_err_proxy
	keepalive_errors ka
	diff <(printf "$P503"; ok_resp; printf "$P502"; ok_resp; printf "$P504"; ok_resp; printf '\n## open\n') <(norm ka)
	wait_for_log "$LOGDIR/wsplice.log" ' b_slow/slow .* 504 .* sH-- .*"GET /slow HTTP/1.1"'
	wait_until 5 '[ "$(grep -c "\"GET /id HTTP/1.1\"" "$LOGDIR/wsplice.log")" -eq 3 ]'
	grep -E ' b_none/dead .* 503 .* SC-- .*"GET /none HTTP/1.1"' "$LOGDIR/wsplice.log"
	grep -E ' b_bad/bad .* 502 .* PH-- .*"GET /bad HTTP/1.1"' "$LOGDIR/wsplice.log"
	[ "$(grep -c ' be/s1 .* 200 .* ---- ' "$LOGDIR/wsplice.log")" -eq 3 ]
	# the transaction of a 502 ends when its page is sent, not at the next request
	grep -E ' b_bad/bad [0-9]+/[0-9]+/[0-9]+/-1/[0-9]{1,3} 502 ' "$LOGDIR/wsplice.log"
}

@test "option http-server-close: the same; option httpclose: the page says close and the connection closes" {
	start_err_proxy "option http-server-close"
	keepalive_errors hsc
	diff <(printf "$P503"; ok_resp; printf "$P502"; ok_resp; printf "$P504"; ok_resp; printf '\n## open\n') <(norm hsc)
	# each request on a new server connection (the first was wait_for_port's)
	[ "$(grep -o '^conn=[0-9]*' "$LOGDIR/hsc.out" | tr '\n' ' ')" = "conn=2 conn=3 conn=4 " ]
	common_teardown
	start_err_proxy "option httpclose"
	for p in none bad slow; do
		send_raw "hc$p" "GET /$p HTTP/1.1\r\nHost: a\r\n\r\n"
		grep -q '^connection: close' "$LOGDIR/hc$p.out"
		[ "$(tail -n1 "$LOGDIR/hc$p.out")" = "## closed" ]
	done
}

@test "after a 503: pipelined request, HTTP/1.0 keep-alive (deny, return too), a body dropped, a client that asked to close" {
	start_err_proxy
	# both requests in one segment: the second is answered after the 503
	send_raw pipe "GET /none HTTP/1.1\r\nHost: a\r\n\r\nGET /id HTTP/1.1\r\nHost: a\r\n\r\n" ""
	diff <(printf "$P503"; ok_resp; printf '\n## open\n') <(norm pipe)
	# HTTP/1.0 with keep-alive is told it has it, as HAProxy tells it
	send_raw h10 "GET /none HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" "GET /id HTTP/1.1\r\nHost: a\r\n\r\n"
	diff <(printf "${P503/\\r\\n\\r\\n/\\r\\nconnection: keep-alive\\r\\n\\r\\n}"; ok_resp; printf '\n## open\n') <(norm h10)
	# and so are the answers of deny and return (HAProxy's bytes)
	send_raw h10r "GET /deny HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" "GET /ret HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	diff <(printf 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: keep-alive\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\nconnection: keep-alive\r\n\r\nhi\n## open\n') "$LOGDIR/h10r.out"
	# a whole body (Content-Length, chunked) is read and dropped; the next request follows
	send_raw body "POST /none HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nGET /" \
		"POST /none HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" \
		"GET /id HTTP/1.1\r\nHost: a\r\n\r\n"
	diff <(printf "$P503$P503"; ok_resp; printf '\n## open\n') <(norm body)
	# Connection: close from the client: "connection: close", then close
	send_raw cc "GET /none HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	diff <(printf "${P503/\\r\\n\\r\\n/\\r\\nconnection: close\\r\\n\\r\\n}"; printf '\n## closed\n') "$LOGDIR/cc.out"
	# an upgrade request that gets a 503 keeps the connection too
	send_raw ws "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
		"GET /id HTTP/1.1\r\nHost: a\r\n\r\n"
	diff <(printf "$P503"; ok_resp; printf '\n## open\n') <(norm ws)
	# a response head longer than the 503 page still fits in the buffer the page used
	send_raw long "GET /none HTTP/1.1\r\nHost: a\r\n\r\n" "GET /long HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(grep -c '^HTTP/1.1 200 OK' "$LOGDIR/long.out")" -eq 1 ]
	grep -q "^X-Pad: $(printf 'p%.0s' {1..400})"$'\r$' "$LOGDIR/long.out"
	[ "$(grep -c ' 503 .* SC-- ' "$LOGDIR/wsplice.log")" -eq 7 ]
}

@test "an answer before the request body is whole (503, 504, deny, return): 'connection: close', then close, as HAProxy" {
	start_err_proxy
	local C='\r\nconnection: close\r\n\r\n'
	send_raw part "POST /none HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345"
	diff <(printf "${P503/\\r\\n\\r\\n/$C}"; printf '\n## closed\n') "$LOGDIR/part.out"
	send_raw slow "GET /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345"
	diff <(printf "${P504/\\r\\n\\r\\n/$C}"; printf '\n## closed\n') "$LOGDIR/slow.out"
	send_raw deny "POST /deny HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
	diff <(printf 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n\n## closed\n') "$LOGDIR/deny.out"
	send_raw ret "POST /ret HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345"
	diff <(printf 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nhi\n## closed\n') "$LOGDIR/ret.out"
	wait_for_log "$LOGDIR/wsplice.log" ' 200 .* LR-- .*"POST /ret HTTP/1.1"'
	grep -E ' 403 .* PR-- .*"POST /deny HTTP/1.1"' "$LOGDIR/wsplice.log"
	grep -E ' b_slow/slow .* 504 .* sH-- .*"GET /slow HTTP/1.1"' "$LOGDIR/wsplice.log"
}

@test "400 and 408 still close the connection, as HAProxy" {
	start_err_proxy "timeout http-request 1s"
	send_raw bad400 "G(T / HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(status_line bad400)" = "HTTP/1.1 400 Bad request" ]
	grep -q '^Connection: close' "$LOGDIR/bad400.out"
	[ "$(tail -n1 "$LOGDIR/bad400.out")" = "## closed" ]
	send_raw slow408 "GET /id HTTP/1.1\r\nHost: a\r\n"
	[ "$(status_line slow408)" = "HTTP/1.1 408 Request Time-out" ]
	grep -q '^Connection: close' "$LOGDIR/slow408.out"
	[ "$(tail -n1 "$LOGDIR/slow408.out")" = "## closed" ]
}

# --- only the connection concerned closes ----------------------------------------------------------

@test "a rejected request leaves another client's connection alone" {
	start_srv cl
	start_proxy
	run timeout 20 $PY - "$FE" <<'EOF'
import socket, sys
port = int(sys.argv[1])

def response(s):
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    head, body = got.split(b"\r\n\r\n", 1)
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
    while len(body) < n:
        body += s.recv(4096)
    return head

a = socket.create_connection(("127.0.0.1", port), timeout=5)
a.sendall(b"GET /first HTTP/1.1\r\nHost: a\r\n")       # head not finished yet
bad = [b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"]
for req in bad:
    b = socket.create_connection(("127.0.0.1", port), timeout=5)
    b.sendall(req)
    got = b""
    while True:
        d = b.recv(4096)
        if not d:
            break
        got += d
    assert got.startswith((b"HTTP/1.1 400", b"HTTP/1.1 422")), got
a.sendall(b"\r\n")
got = response(a)
assert got.startswith(b"HTTP/1.1 200 OK"), got
a.sendall(b"GET /second HTTP/1.1\r\nHost: a\r\n\r\n")
got = response(a)
assert got.startswith(b"HTTP/1.1 200 OK"), got
print("ok")
EOF
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

# --- hop-by-hop headers ---------------------------------------------------------------------------

@test "TE keeps only trailers, Upgrade without an upgrade is dropped" {
	start_srv cl
	start_proxy
	send_raw te "GET / HTTP/1.1\r\nHost: a\r\nTE: trailers, deflate\r\nUpgrade: foo\r\nX-Keep: 1\r\n\r\n" \
		"GET / HTTP/1.1\r\nHost: a\r\nTE: deflate\r\n\r\n"
	cat "$LOGDIR/srv.rec/1.head"
	grep -qi $'^te: trailers\r$' "$LOGDIR/srv.rec/1.head"
	refute grep -qi '^upgrade' "$LOGDIR/srv.rec/1.head"
	grep -q $'^X-Keep: 1\r$' "$LOGDIR/srv.rec/1.head"
	refute grep -qi '^te:' "$LOGDIR/srv.rec/2.head"
}

# --- rules and options (expected bytes taken from haproxy 2.6) -------------------------------------

RULES='    monitor-uri /mon
    option forwardfor except 10.0.0.0/8
    http-request deny deny_status 429 if { path_beg /d429 }
    http-request deny if { path_beg /deny }
    http-request return status 404 if { path_beg /r404 }
    http-request return status 202 content-type text/plain string "a b" if { path_beg /r202 }
    http-request set-header X-Set one
    http-request add-header X-Add two
    http-request add-header X-Src %[src]
    http-request del-header X-Del
    acl is_get method GET
    http-request set-header X-Only-Get yes if is_get
    http-response set-header X-Res three
    http-response del-header Content-Type unless { path_beg /keep }'

@test "monitor-uri answers HAProxy's 200 page and keeps the connection" {
	start_srv cl
	start_proxy "$RULES"
	send_raw mon "GET /mon HTTP/1.1\r\nHost: a\r\n\r\n" "GET http://a/mon HTTP/1.1\r\nHost: a\r\n\r\n"
	local page='HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n'
	diff <(printf "$page$page\n## open\n") "$LOGDIR/mon.out"
	[ -z "$(ls -A "$LOGDIR/srv.rec")" ]
}

@test "http-request deny: HAProxy's 403 (and deny_status) page, keep-alive, a body is dropped" {
	start_srv cl
	start_proxy "$RULES"
	send_raw deny "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n" "GET /d429 HTTP/1.1\r\nHost: a\r\n\r\n"
	diff <(printf 'HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\nHTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n\n## open\n') "$LOGDIR/deny.out"
	# the body is read and dropped, and the connection carries the next request (HAProxy too)
	send_raw body "POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc" \
		"POST /deny HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" \
		"GET /mon HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(grep -c '^HTTP/1.1 403 Forbidden' "$LOGDIR/body.out")" -eq 2 ]
	grep -qF 'Service ready.' "$LOGDIR/body.out"
	refute grep -qi '^connection: close' "$LOGDIR/body.out"
	[ "$(tail -n1 "$LOGDIR/body.out")" = "## open" ]
	[ -z "$(ls -A "$LOGDIR/srv.rec")" ]
	wait_for_log "$LOGDIR/wsplice.log" ' 403 .* PR-- .*"GET /deny HTTP/1.1"'
}

@test "http-request return: status, content-type, string as HAProxy sends them" {
	start_srv cl
	start_proxy "$RULES"
	send_raw ret "GET /r404 HTTP/1.1\r\nHost: a\r\n\r\n" "GET /r202 HTTP/1.1\r\nHost: a\r\n\r\n"
	local want
	want=$(printf 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 3\r\ncontent-type: text/plain\r\n\r\na b')
	[ "$(cat "$LOGDIR/ret.out")" = "$want"$'\n## open' ]
}

@test "HEAD: the proxy's own answers (return, deny, monitor-uri, 503) are heads only, as HAProxy's" {
	start_srv cl
	start_proxy "$RULES"
	# each head byte for byte as haproxy 2.6 sends it; a body would be read as the next response
	send_raw head "HEAD /r202 HTTP/1.1\r\nHost: a\r\n\r\n" "HEAD /deny HTTP/1.1\r\nHost: a\r\n\r\n" \
		"HEAD /mon HTTP/1.1\r\nHost: a\r\n\r\n" "GET /mon HTTP/1.1\r\nHost: a\r\n\r\n"
	diff <(printf 'HTTP/1.1 202 Accepted\r\ncontent-length: 3\r\ncontent-type: text/plain\r\n\r\nHTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n\n## open\n') "$LOGDIR/head.out"
	kill "$srv_PID"
	wait "$srv_PID" || true
	send_raw dead "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(status_line dead)" = "HTTP/1.1 503 Service Unavailable" ]
	grep -q '^content-length: 107' "$LOGDIR/dead.out"
	refute grep -q '<html>' "$LOGDIR/dead.out"
}

@test "set/add/del-header, forwardfor appended after the client's, http-response rules" {
	start_srv cl
	start_proxy "$RULES"
	send_raw hdr "GET / HTTP/1.1\r\nHost: a\r\nX-Set: old\r\nX-Del: d\r\nX-Add: first\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n" \
		"POST /keep HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nz"
	local h=$LOGDIR/srv.rec/1.head
	cat "$h"
	[ "$(grep -i '^x-set' "$h" | tr -d '\r')" = "X-Set: one" ]
	refute grep -qi '^x-del' "$h"
	[ "$(grep -i '^x-add' "$h" | tr -d '\r' | paste -sd,)" = "X-Add: first,X-Add: two" ]
	[ "$(grep -i '^x-forwarded-for' "$h" | tr -d '\r' | paste -sd,)" = "X-Forwarded-For: 9.9.9.9,X-Forwarded-For: 127.0.0.1" ]
	grep -q $'^X-Src: 127.0.0.1\r$' "$h"
	grep -q $'^X-Only-Get: yes\r$' "$h"
	refute grep -qi '^x-only-get' "$LOGDIR/srv.rec/2.head"
	# responses: X-Res on both, Content-Type removed from the first only
	[ "$(grep -ci $'^x-res: three\r$' "$LOGDIR/hdr.out")" -eq 2 ]
	[ "$(grep -ci '^content-type' "$LOGDIR/hdr.out")" -eq 1 ]
}

@test "option forwardfor if-none, header NAME, except NET" {
	start_srv cl
	start_proxy '    option forwardfor header X-Client if-none'
	send_raw ff "GET / HTTP/1.1\r\nHost: a\r\n\r\n" "GET / HTTP/1.1\r\nHost: a\r\nX-Client: 1.1.1.1\r\n\r\n"
	grep -q $'^X-Client: 127.0.0.1\r$' "$LOGDIR/srv.rec/1.head"
	[ "$(grep -ci '^x-client' "$LOGDIR/srv.rec/2.head")" -eq 1 ]
	grep -q $'^X-Client: 1.1.1.1\r$' "$LOGDIR/srv.rec/2.head"
	common_teardown
	rm -rf "$LOGDIR/srv.rec"
	start_srv cl
	start_proxy '    option forwardfor except 127.0.0.0/8'
	send_raw ex "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	refute grep -qi '^x-forwarded-for' "$LOGDIR/srv.rec/1.head"
}

@test "errorfile (from defaults too) replaces a page byte for byte" {
	printf 'HTTP/1.1 503 Custom\r\nContent-Length: 2\r\n\r\nhi' >"$LOGDIR/503.http"
	printf 'HTTP/1.1 403 Go away\r\nContent-Length: 3\r\n\r\nno\n' >"$LOGDIR/403.http"
	write_cfg "$LOGDIR/wsplice.cfg" <<EOC
defaults
    mode http
    timeout client 30s
    errorfile 503 $LOGDIR/503.http
frontend fe
    bind 127.0.0.1:$FE
    errorfile 403 $LOGDIR/403.http
    http-request deny if { path_beg /deny }
    default_backend nobody
backend nobody
EOC
	start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_for_port "$FE"
	# the connection stays after the 503, as HAProxy keeps it
	send_raw ef "GET /none HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(cat "$LOGDIR/ef.out")" = $'HTTP/1.1 503 Custom\r\nContent-Length: 2\r\n\r\nhi\n## open' ]
	send_raw deny "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n"
	[ "$(cat "$LOGDIR/deny.out")" = $'HTTP/1.1 403 Go away\r\nContent-Length: 3\r\n\r\nno\n\n## open' ]
}

# check_cfg NAME BODY MESSAGE: "wsplice -c" refuses a frontend with BODY and prints MESSAGE.
check_cfg() {
	write_cfg "$LOGDIR/$1.cfg" <<EOC
frontend fe
    mode http
    bind 127.0.0.1:$FE
$2
EOC
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/$1.cfg"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$3"* ]]
}

@test "config: header injection, log-format, missing errorfile, bad deny_status are refused" {
	check_cfg crlf '    http-request set-header X-A "a\r\nb"' 'contains CR or LF'
	check_cfg fmt '    http-request set-header X-A "a%[hdr(x)]"' 'log-format expressions are not supported yet'
	check_cfg ef '    errorfile 503 /nonexistent/file' "errorfile : error opening file '/nonexistent/file'."
	check_cfg st '    http-request deny deny_status 999' "Unexpected status code '999'."
	check_cfg act '    http-request frob' "but got 'frob'"
	check_cfg name '    http-request set-header "X A" v' "invalid character ' ' in header name"
}
