#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# A catalogue of malformed requests, each sent on its own connection to the frontend, with the
# status HAProxy 2.6 answers. After each, a keep-alive client opened before the catalogue gets
# a 200 on its same connection and a WebSocket tunnel opened before it still echoes: a broken
# request closes only its own connection. Run on both data paths (the tunnel is spliced by BPF
# or relayed in userspace).
#
# Where the statuses come from: the HAPROXY column is what haproxy 2.6.12-1+deb12u4 (Debian 12)
# answered to the same bytes, with tune.bufsize 16384, one frontend, and tests/peers/ka_server.py
# as its server (a 501 is that server refusing a method HAProxy forwarded). The last test runs
# the installed haproxy on the table again and fails if a HAPROXY entry is no longer true.
# The WSPLICE column is what wsplice must answer; where it differs from HAPROXY, the reason is in
# docs/http.md ("Request smuggling checks"): wsplice is stricter where llhttp is, and speaks no
# HTTP/2 ("h2": HAProxy answered with an HTTP/2 SETTINGS frame).

# WSPLICE HAPROXY NAME BYTES (a Python expression; H is b"Host: x\r\n")
CATALOGUE=$(
	cat <<'EOT'
200 200 baseline              b"GET /id HTTP/1.1\r\n" + H + b"\r\n"
# --- smuggling: Content-Length and Transfer-Encoding
200 200 cl_te                 b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
200 200 te_cl                 b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
400 400 cl_dup_diff           b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab"
200 200 cl_dup_same           b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nab"
400 400 cl_list_diff          b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: 1, 2\r\n\r\nab"
400 400 cl_neg                b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n"
400 400 cl_plus               b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: +2\r\n\r\nab"
400 400 cl_overflow           b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\nab"
400 400 cl_hex                b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: 0x2\r\n\r\nab"
400 400 cl_space_inside       b"POST /count HTTP/1.1\r\n" + H + b"Content-Length: 1 2\r\n\r\nab"
422 422 te_gzip_chunked       b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
400 400 te_chunked_gzip       b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"
400 400 te_two_headers        b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n"
400 400 te_chunked_twice      b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"
400 400 te_identity           b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n"
400 400 te_xchunked           b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
200 200 te_trailing_space     b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n"
400 400 te_vtab               b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n"
200 200 te_http10             b"POST /count HTTP/1.0\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
# --- obs-fold, space before the colon, header names
200 200 obs_fold              b"GET /id HTTP/1.1\r\n" + H + b"X-Foo: a\r\n b\r\n\r\n"
200 200 obs_fold_te           b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"
400 400 first_header_folded   b"GET /id HTTP/1.1\r\n Host: x\r\n\r\n"
400 400 space_before_colon_cl b"POST /count HTTP/1.1\r\n" + H + b"Content-Length : 2\r\n\r\nab"
400 400 space_before_colon_te b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
400 400 space_in_name         b"GET /id HTTP/1.1\r\n" + H + b"Bad Name: v\r\n\r\n"
400 400 tab_before_colon      b"GET /id HTTP/1.1\r\n" + H + b"X-A\t: v\r\n\r\n"
400 400 name_del              b"GET /id HTTP/1.1\r\n" + H + b"X-\x7fA: v\r\n\r\n"
400 400 name_8bit             b"GET /id HTTP/1.1\r\n" + H + b"X-\xe9: v\r\n\r\n"
400 400 name_nul              b"GET /id HTTP/1.1\r\n" + H + b"X-\x00A: v\r\n\r\n"
400 400 name_empty            b"GET /id HTTP/1.1\r\n" + H + b": v\r\n\r\n"
400 400 no_colon              b"GET /id HTTP/1.1\r\n" + H + b"NoColon\r\n\r\n"
# --- header values (llhttp's strict mode refuses control characters HAProxy forwards)
400 200 value_ctl             b"GET /id HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n"
400 200 value_del             b"GET /id HTTP/1.1\r\n" + H + b"X-A: a\x7fb\r\n\r\n"
400 200 value_nul             b"GET /id HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n"
400 400 value_cr              b"GET /id HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n"
200 200 value_8bit            b"GET /id HTTP/1.1\r\n" + H + b"X-A: caf\xe9\r\n\r\n"
# --- the URI
400 400 uri_nul               b"GET /i\x00d HTTP/1.1\r\n" + H + b"\r\n"
400 400 uri_space             b"GET /i d HTTP/1.1\r\n" + H + b"\r\n"
400 400 uri_ctl               b"GET /i\x01d HTTP/1.1\r\n" + H + b"\r\n"
400 400 uri_tab               b"GET /i\td HTTP/1.1\r\n" + H + b"\r\n"
400 200 uri_del               b"GET /i\x7fd HTTP/1.1\r\n" + H + b"\r\n"
400 400 uri_8bit              b"GET /caf\xe9 HTTP/1.1\r\n" + H + b"\r\n"
400 400 uri_fragment          b"GET /id#frag HTTP/1.1\r\n" + H + b"\r\n"
400 400 uri_fragment_ws       b"GET /ws#x HTTP/1.1\r\n" + H + b"\r\n"
200 200 uri_asterisk          b"GET * HTTP/1.1\r\n" + H + b"\r\n"
400 400 abs_uri_other_host    b"GET http://a/id HTTP/1.1\r\nHost: b\r\n\r\n"
400 400 connect_other_host    b"CONNECT a:80 HTTP/1.1\r\n" + H + b"\r\n"
# --- sizes: tune.bufsize 16384, tune.http.maxhdr 101
200 200 uri_15000             b"GET /" + b"a" * 15000 + b" HTTP/1.1\r\n" + H + b"\r\n"
400 400 uri_20000             b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n" + H + b"\r\n"
400 400 header_17000          b"GET /id HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 17000 + b"\r\n\r\n"
400 400 headers_18000_total   b"GET /id HTTP/1.1\r\n" + H + b"".join(b"X-H%03d: %s\r\n" % (i, b"v" * 200) for i in range(90)) + b"\r\n"
431 431 headers_100           b"GET /id HTTP/1.1\r\n" + H + b"".join(b"X-H%03d: v\r\n" % i for i in range(99)) + b"\r\n"
400 400 headers_111           b"GET /id HTTP/1.1\r\n" + H + b"".join(b"X-H%03d: v\r\n" % i for i in range(110)) + b"\r\n"
# --- versions (llhttp refuses HTTP/1.2 and HTTP/3.0, HAProxy takes them for HTTP/1.1)
200 200 v_http10              b"GET /id HTTP/1.0\r\n" + H + b"\r\n"
200 200 v_http2               b"GET /id HTTP/2.0\r\n" + H + b"\r\n"
400 200 v_http12              b"GET /id HTTP/1.2\r\n" + H + b"\r\n"
400 200 v_http30              b"GET /id HTTP/3.0\r\n" + H + b"\r\n"
400 400 v_lower               b"GET /id http/1.1\r\n" + H + b"\r\n"
400 400 v_garbage             b"GET /id HTTQ/1.1\r\n" + H + b"\r\n"
400 400 v_no_dot              b"GET /id HTTP/11\r\n" + H + b"\r\n"
400 400 v_missing             b"GET /id\r\n" + H + b"\r\n"
400 400 v_http09_request      b"GET /id\r\n\r\n"
400 400 v_extra_word          b"GET /id HTTP/1.1 x\r\n" + H + b"\r\n"
400 h2  h2_preface            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# --- chunk sizes: HAProxy refuses 2^52 and more
400 400 chunk_2p52            b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n10000000000000\r\nab\r\n0\r\n\r\n"
400 400 chunk_2p64m1          b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab\r\n0\r\n\r\n"
400 400 chunk_overflow        b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nab\r\n0\r\n\r\n"
400 400 chunk_bad_hex         b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n"
400 400 chunk_neg             b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n-2\r\nab\r\n0\r\n\r\n"
400 400 chunk_no_crlf         b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n2\r\nabX0\r\n\r\n"
200 200 chunk_leading_zeros   b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n00000000000000000000000002\r\nab\r\n0\r\n\r\n"
200 200 chunk_extension       b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n2;a=b\r\nab\r\n0\r\n\r\n"
400 200 chunk_trailing_space  b"POST /count HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n2 \r\nab\r\n0\r\n\r\n"
# --- line ends and the request line (llhttp's strict mode refuses bare LF and tabs)
400 200 bare_lf               b"GET /id HTTP/1.1\nHost: x\n\n"
400 200 bare_lf_in_header     b"GET /id HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"
400 400 bare_cr               b"GET /id HTTP/1.1\r" + H + b"\r\n"
200 200 leading_crlf          b"\r\nGET /id HTTP/1.1\r\n" + H + b"\r\n"
200 200 double_space          b"GET  /id HTTP/1.1\r\n" + H + b"\r\n"
400 200 tab_separators        b"GET\t/id\tHTTP/1.1\r\n" + H + b"\r\n"
# --- methods (llhttp knows a fixed list; HAProxy forwards any token, the server said 501)
400 400 method_at             b"G@T /id HTTP/1.1\r\n" + H + b"\r\n"
400 400 method_paren          b"G(T /id HTTP/1.1\r\n" + H + b"\r\n"
400 400 method_8bit           b"G\xe9T /id HTTP/1.1\r\n" + H + b"\r\n"
400 400 method_empty          b" /id HTTP/1.1\r\n" + H + b"\r\n"
400 501 method_lower          b"get /id HTTP/1.1\r\n" + H + b"\r\n"
400 501 method_unknown        b"FOO /id HTTP/1.1\r\n" + H + b"\r\n"
# --- Host: HAProxy 2.6 does not require it, even in HTTP/1.1
200 200 no_host_11            b"GET /id HTTP/1.1\r\n\r\n"
200 200 no_host_10            b"GET /id HTTP/1.0\r\n\r\n"
200 200 empty_host            b"GET /id HTTP/1.1\r\nHost:\r\n\r\n"
400 400 two_hosts             b"GET /id HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
EOT
)

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
	printf '%s\n' "$CATALOGUE" >"$LOGDIR/catalogue.txt"
	write_driver
}

teardown() {
	common_teardown
	dump_logs
}

# write_driver: $LOGDIR/catalogue.py PORT TABLE COLUMN [WSPATH]: sends each row's bytes on a new
# connection and compares the status line's code ("h2" for an HTTP/2 frame, "close" for
# nothing, "timeout" for no answer in 10 s) with COLUMN (1 WSPLICE, 2 HAPROXY). With WSPATH, a
# keep-alive client and a WebSocket tunnel are opened first and checked after every row. Prints
# one line per row, "MISMATCH" on the bad ones, and exits 1 if any.
write_driver() {
	cat >"$LOGDIR/catalogue.py" <<'PYEOF'
import base64, os, socket, struct, sys

port, table, column = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
wspath = sys.argv[4] if len(sys.argv) > 4 else None
H = b"Host: x\r\n"


def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_head(s):
    got = b""
    while b"\r\n\r\n" not in got:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed after %r" % got[:80])
        got += d
    head, rest = got.split(b"\r\n\r\n", 1)
    return head, rest


def status(data):
    s = connect()
    try:
        s.sendall(data)
    except OSError:
        pass  # refused early: the answer may still be readable
    got = b""
    try:
        while b"\r\n" not in got and len(got) < 9:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except ConnectionResetError:
        pass
    except socket.timeout:
        return "timeout"
    finally:
        s.close()
    if not got:
        return "close"
    if got.startswith(b"\x00\x00"):
        return "h2"
    return got.split(b"\r\n")[0].split(b" ")[1].decode(errors="replace")


class KeepAlive:
    """One client connection kept across the catalogue: GET /id must give 200 on it."""

    def __init__(self):
        self.s = connect()

    def check(self):
        self.s.sendall(b"GET /id HTTP/1.1\r\nHost: ka\r\n\r\n")
        head, body = read_head(self.s)
        n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
        while len(body) < n:
            body += self.s.recv(65536)
        if not head.startswith(b"HTTP/1.1 200") or not body.startswith(b"conn="):
            raise AssertionError("keep-alive client got %r %r" % (head[:40], body))


class Tunnel:
    """A WebSocket tunnel through the frontend, raw RFC 6455 frames (client side masked)."""

    def __init__(self):
        self.s = connect()
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (wspath, key)).encode())
        head, self.rest = read_head(self.s)
        if not head.startswith(b"HTTP/1.1 101"):
            raise AssertionError("no tunnel: %r" % head[:80])
        self.n = 0

    def recv_exact(self, n):
        while len(self.rest) < n:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("tunnel closed")
            self.rest += d
        out, self.rest = self.rest[:n], self.rest[n:]
        return out

    def check(self):
        self.n += 1
        msg = b"echo %d " % self.n + os.urandom(8).hex().encode()
        mask = os.urandom(4)
        self.s.sendall(bytes([0x81, 0x80 | len(msg)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(msg)))
        b0, b1 = self.recv_exact(2)
        if b0 != 0x81 or b1 & 0x80 or (b1 & 0x7F) != len(msg):
            raise AssertionError("tunnel frame header %02x %02x" % (b0, b1))
        got = self.recv_exact(len(msg))
        if got != msg:
            raise AssertionError("tunnel echoed %r, sent %r" % (got, msg))


ka = tun = None
if wspath:
    ka, tun = KeepAlive(), Tunnel()
    ka.check()
    tun.check()
bad = 0
for line in open(table):
    if not line.strip() or line.startswith("#"):
        continue
    cols = line.split(None, 3)
    want, name = cols[column - 1], cols[2]
    got = status(eval(cols[3], {"H": H}))
    ok = got == want
    if ka:
        try:
            ka.check()
            tun.check()
        except Exception as e:
            print("after %s: %s" % (name, e))
            sys.exit(1)
    print("%-22s want %-5s got %-5s%s" % (name, want, got, "" if ok else "  MISMATCH"), flush=True)
    bad += not ok
sys.exit(1 if bad else 0)
PYEOF
}

# catalogue MODE: the table through wsplice on data path MODE (bpf or user), with the
# keep-alive client and the tunnel checked after every row.
catalogue() {
	need_bpf "$1"
	bg ws timeout 300 $PY "$PEERS/ws_echo.py" "$WS"
	bg ht timeout 300 $PY "$PEERS/ka_server.py" "$HT"
	wait_for_log "$LOGDIR/ws.log" '^listening'
	wait_for_port "$HT"
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"
	run timeout 240 $PY "$LOGDIR/catalogue.py" "$FE" "$LOGDIR/catalogue.txt" 1 /ws/chat
	echo "$output"
	[ "$status" -eq 0 ]
	# every row was answered, and the tunnel was one for the whole run
	[ "$(grep -c ' want ' <<<"$output")" -eq "$(grep -cv '^#' "$LOGDIR/catalogue.txt")" ]
	[ "$(grep -c '^open ' "$LOGDIR/ws.log")" -eq 1 ]
	kill -0 "$DAEMON_PID"
	refute grep -qE 'runtime error|AddressSanitizer|BUG at' "$LOGDIR/wsplice.log"
}

@test "malformed requests get HAProxy's status; a keep-alive client and a tunnel live on (BPF)" {
	catalogue bpf
}

@test "malformed requests get HAProxy's status; a keep-alive client and a tunnel live on (-dS)" {
	catalogue user
}

@test "the HAPROXY column is what the installed haproxy 2.6 answers" {
	command -v haproxy >/dev/null || skip "haproxy is not installed"
	haproxy -v | grep -q 'version 2\.6\.' || skip "haproxy is not 2.6: $(haproxy -v | head -n1)"
	bg ht timeout 300 $PY "$PEERS/ka_server.py" "$HT"
	wait_for_port "$HT"
	# haproxy's own configuration, not cfg_head's: no log, no stats socket, its buffer size
	write_cfg "$LOGDIR/haproxy.cfg" <<EOF
global
    tune.bufsize 16384
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$FE
    default_backend be
backend be
    server s1 127.0.0.1:$HT
EOF
	bg haproxy timeout 300 haproxy -db -f "$LOGDIR/haproxy.cfg"
	wait_for_port "$FE"
	run timeout 240 $PY "$LOGDIR/catalogue.py" "$FE" "$LOGDIR/catalogue.txt" 2
	echo "$output"
	[ "$status" -eq 0 ]
}

# The server side of requests the catalogue changed: what the server gets, byte for byte, is
# what haproxy 2.6 sent it for the same request (captured with a raw server).
@test "server side: HTTP/1.0 asks for keep-alive, HTTP/2.0 goes as HTTP/1.1" {
	bg srv timeout 120 $PY "$PEERS/bad_server.py" "$HT" cl --record "$LOGDIR/rec" --size 4
	wait_for_log "$LOGDIR/srv.log" '^listening'
	std_cfg "$LOGDIR/wsplice.cfg" "$FE" "$WS" "$HT"
	start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_for_port "$FE"
	printf 'GET /a HTTP/1.0\r\nHost: x\r\n\r\n' >"$LOGDIR/r1"
	printf 'GET /b HTTP/2.0\r\nHost: x\r\n\r\n' >"$LOGDIR/r2"
	run timeout 20 $PY "$PEERS/http_raw.py" "$FE" "$LOGDIR/r1"
	[[ "$output" == "HTTP/1.1 200 "* ]]
	run timeout 20 $PY "$PEERS/http_raw.py" "$FE" "$LOGDIR/r2"
	[[ "$output" == "HTTP/1.1 200 "* ]]
	# haproxy sent "GET /a HTTP/1.0\r\nhost: x\r\nconnection: keep-alive\r\n\r\n": without it
	# the server closes after its answer, and a later request that takes the pooled
	# connection got a 502 SH-- (seen in the catalogue's keep-alive client)
	[ "$(cat "$LOGDIR/rec/1.head")" = "$(printf 'GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n')" ]
	# haproxy sent "GET /b HTTP/1.1\r\nhost: x\r\n\r\n"
	[ "$(cat "$LOGDIR/rec/2.head")" = "$(printf 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n')" ]
}
