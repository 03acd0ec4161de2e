#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Balancing and health checks end to end, through the real daemon: several backend processes
# started, stopped and made to fail. HTTP servers (name_srv.py, below) answer their name with a
# status read from a file; WebSocket servers are tests/peers/ws_echo.py with --hello NAME, and
# hold.py keeps tunnels open and prints which server each one reached.

setup_file() {
	load helpers
	build_peers
}

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	write_peers
}

teardown() {
	common_teardown
	dump_logs
}

# The two small peers of this file, written to $LOGDIR.
write_peers() {
	cat >"$LOGDIR/name_srv.py" <<'EOF'
import http.server, os, sys
port, name, ctl = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, extra = "200 OK", ""
        if os.path.exists(ctl):
            lines = open(ctl).read().split("\n") + [""]
            status, extra = lines[0] or status, lines[1]
        body = f"{name} {extra}\n".encode()
        self.send_response_only(int(status.split()[0]), status.split(" ", 1)[1])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    do_OPTIONS = do_HEAD = do_GET
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
print(f"listening {port}", flush=True)
srv.serve_forever()
EOF
	cat >"$LOGDIR/hold.py" <<'EOF'
import asyncio, sys, websockets
url, n = sys.argv[1], int(sys.argv[2])
async def main():
    conns = []
    for i in range(n):
        try:
            ws = await websockets.connect(url, open_timeout=5, ping_interval=None)
            print(f"{i} {await asyncio.wait_for(ws.recv(), 5)}", flush=True)
            conns.append((i, ws))
        except websockets.exceptions.InvalidStatusCode as e:
            print(f"{i} {e.status_code}", flush=True)
    print("done", flush=True)
    async def watch(i, ws):
        await ws.wait_closed()
        print(f"closed {i}", flush=True)
    await asyncio.gather(*(watch(i, ws) for i, ws in conns))
    await asyncio.Future()
asyncio.run(main())
EOF
}

# http_srv NAME PORT: an HTTP server answering "NAME" (status from $LOGDIR/NAME.ctl, 200 if none).
http_srv() {
	bg "$1" timeout 300 $PY "$LOGDIR/name_srv.py" "$2" "$1" "$LOGDIR/$1.ctl"
	wait_for_log "$LOGDIR/$1.log" '^listening'
}

# ws_srv NAME PORT: a WebSocket echo server that sends NAME first.
ws_srv() {
	bg "$1" timeout 300 $PY "$PEERS/ws_echo.py" "$2" --name "$1" --hello "$1"
	wait_for_log "$LOGDIR/$1.log" '^listening'
}

# stop NAME: stops the process started as NAME.
stop() {
	local pid=${1}_PID
	kill -TERM "${!pid}"
	timeout 5 tail --pid="${!pid}" -f /dev/null
}

# proxy BACKEND_LINES [MODE]: wsplice with one frontend on $FE and backend "be".
proxy() {
	cfg_head "$LOGDIR/wsplice.cfg" connect=2s tunnel=1h <<EOF
frontend fe
    bind 127.0.0.1:$FE
    default_backend be
backend be
    option http-server-close
$1
EOF
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "${2:-user}")
	wait_for_port "$FE"
}

# get [PATH [CURL_ARGS...]]: one request; prints the server's name, or the status when not 200.
get() {
	local path=${1:-/} out
	shift || true
	out=$(timeout 5 curl -s -o - -w ' %{http_code}' "$@" "http://127.0.0.1:$FE$path")
	case $out in
	*" 200") echo "${out%% *}" ;;
	*) echo "${out##* }" ;;
	esac
}

# seq N [PATH]: N requests, the names in one line.
seq_of() {
	local i out=()
	for ((i = 0; i < $1; i++)); do
		out+=("$(get "${2:-/}")")
	done
	echo "${out[*]}"
}

# hold NAME N [PATH]: N WebSocket tunnels through wsplice, kept open (log $LOGDIR/NAME.log).
hold() {
	bg "$1" timeout 300 $PY "$LOGDIR/hold.py" "ws://127.0.0.1:$FE${3:-/ws/hold}" "$2"
	wait_for_log "$LOGDIR/$1.log" '^done' 20
}

# count NAME WORD: how many tunnels of holder NAME reached WORD (a server name or a status).
count() {
	grep -cE "^[0-9]+ $2\$" "$LOGDIR/$1.log" || true
}

# --- distribution --------------------------------------------------------------------------------

@test "balance: roundrobin, exact weighted sequence; disabled and weight 0 servers take nothing" {
	local p1 p2 p3 p4
	p1=$(free_port) p2=$(free_port) p3=$(free_port) p4=$(free_port)
	http_srv s1 "$p1"
	http_srv s2 "$p2"
	http_srv s3 "$p3"
	http_srv s4 "$p4"
	proxy "    balance roundrobin
    server s1 127.0.0.1:$p1 weight 2
    server s2 127.0.0.1:$p2
    server s3 127.0.0.1:$p3 disabled
    server s4 127.0.0.1:$p4 weight 0"
	run seq_of 6
	[ "$output" = "s1 s2 s1 s1 s2 s1" ]
}

@test "balance: static-rr, exact sequence" {
	local p1 p2 p3
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	http_srv s1 "$p1"
	http_srv s2 "$p2"
	http_srv s3 "$p3"
	proxy "    balance static-rr
    server s1 127.0.0.1:$p1
    server s2 127.0.0.1:$p2 weight 2
    server s3 127.0.0.1:$p3"
	run seq_of 8
	[ "$output" = "s2 s1 s3 s2 s2 s1 s3 s2" ]
}

@test "balance: first fills servers in order up to maxconn, then 503 (both data paths)" {
	local mode p1 p2
	for mode in user bpf; do
		if [ "$mode" = bpf ] && { [ "$(id -u)" != 0 ] || ! command -v bpftool >/dev/null; }; then
			continue
		fi
		p1=$(free_port) p2=$(free_port)
		ws_srv "w1$mode" "$p1"
		ws_srv "w2$mode" "$p2"
		proxy "    balance first
    server s1 127.0.0.1:$p1 maxconn 2
    server s2 127.0.0.1:$p2 maxconn 3" "$mode"
		expect_splice_mode "$mode"
		hold "h$mode" 6
		run cat "$LOGDIR/h$mode.log"
		[ "${lines[0]}" = "0 w1$mode" ]
		[ "${lines[1]}" = "1 w1$mode" ]
		[ "${lines[2]}" = "2 w2$mode" ]
		[ "${lines[3]}" = "3 w2$mode" ]
		[ "${lines[4]}" = "4 w2$mode" ]
		[ "${lines[5]}" = "5 503" ]
		# every slot taken: the request waits in the queue until timeout connect, then 503 sQ
		wait_for_log "$LOGDIR/wsplice.log" 'fe be/<NOSRV> .* 503 .* sQ--'
		stop "h$mode"
		stop_wsplice
	done
}

@test "balance: leastconn spreads long-lived tunnels evenly, new tunnels go where others closed" {
	local p1 p2 p3 a b c
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	ws_srv w1 "$p1"
	ws_srv w2 "$p2"
	ws_srv w3 "$p3"
	proxy "    balance leastconn
    server s1 127.0.0.1:$p1
    server s2 127.0.0.1:$p2
    server s3 127.0.0.1:$p3"
	hold h1 60
	a=$(count h1 w1) b=$(count h1 w2) c=$(count h1 w3)
	echo "first 60: $a $b $c" >&2
	[ "$a" -eq 20 ]
	[ "$b" -eq 20 ]
	[ "$c" -eq 20 ]
	# the 20 tunnels of w1 end: leastconn sends the next 20 there, round robin would not
	stop w1
	ws_srv w1 "$p1"
	wait_for_log "$LOGDIR/h1.log" '^closed' 5
	wait_until 5 '[ "$(grep -c ^closed "$LOGDIR/h1.log")" -eq 20 ]'
	hold h2 20
	a=$(count h2 w1)
	echo "next 20 on w1: $a" >&2
	[ "$a" -ge 19 ]
}

@test "balance: source, uri and hdr keep a key on one server; keys spread" {
	local p1 p2 p3 ip i first again used
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	http_srv s1 "$p1"
	http_srv s2 "$p2"
	http_srv s3 "$p3"
	proxy "    balance source
    server s1 127.0.0.1:$p1
    server s2 127.0.0.1:$p2
    server s3 127.0.0.1:$p3"
	used=""
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		ip=127.0.0.$((i * 17))
		first=$(get / --interface "$ip")
		seq_of 1 / >/dev/null
		again=$(get / --interface "$ip")
		[ "$again" = "$first" ]
		used+="$first "
	done
	echo "source: $used" >&2
	[ "$(echo "$used" | tr ' ' '\n' | sort -u | grep -c .)" -ge 2 ]
	stop_wsplice
	proxy "    balance uri
    hash-type consistent
    server s1 127.0.0.1:$p1
    server s2 127.0.0.1:$p2
    server s3 127.0.0.1:$p3"
	used=""
	for i in $(seq 1 15); do
		first=$(get "/room/$i")
		again=$(get "/room/$i?user=$RANDOM")
		[ "$again" = "$first" ]
		used+="$first "
	done
	[ "$(echo "$used" | tr ' ' '\n' | sort -u | grep -c .)" -ge 2 ]
	stop_wsplice
	proxy "    balance hdr(X-User)
    server s1 127.0.0.1:$p1
    server s2 127.0.0.1:$p2
    server s3 127.0.0.1:$p3"
	for i in $(seq 1 10); do
		first=$(get / -H "X-User: user$i")
		again=$(get / -H "X-User: user$i")
		[ "$again" = "$first" ]
	done
	# without the header: round robin
	run seq_of 3
	[ "$output" = "s1 s2 s3" ]
}

@test "balance: consistent hashing, a server leaving moves only its keys and they come back" {
	local p1 p2 p3 i before after moved=0 wrong=0
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	http_srv s1 "$p1"
	http_srv s2 "$p2"
	http_srv s3 "$p3"
	proxy "    balance uri
    hash-type consistent
    server s1 127.0.0.1:$p1 check inter 200 fall 1 rise 1
    server s2 127.0.0.1:$p2 check inter 200 fall 1 rise 1
    server s3 127.0.0.1:$p3 check inter 200 fall 1 rise 1"
	declare -A map
	for i in $(seq 1 30); do
		map[$i]=$(get "/k/$i")
	done
	stop s2
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s2 is DOWN' 5
	for i in $(seq 1 30); do
		after=$(get "/k/$i")
		[ "$after" != s2 ]
		if [ "${map[$i]}" = s2 ]; then
			moved=$((moved + 1))
		elif [ "$after" != "${map[$i]}" ]; then
			wrong=$((wrong + 1))
		fi
	done
	echo "moved $moved, wrongly moved $wrong" >&2
	[ "$moved" -gt 0 ]
	[ "$wrong" -eq 0 ]
	http_srv s2 "$p2"
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s2 is UP' 5
	for i in $(seq 1 30); do
		[ "$(get "/k/$i")" = "${map[$i]}" ]
	done
}

# --- servers: backup, maxconn --------------------------------------------------------------------

@test "balance: backup takes over when the active servers are DOWN and hands back when one returns" {
	local p1 p2 p3
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	http_srv s1 "$p1"
	http_srv b1 "$p2"
	http_srv b2 "$p3"
	proxy "    default-server check inter 200 fall 2 rise 2
    server s1 127.0.0.1:$p1
    server b1 127.0.0.1:$p2 backup
    server b2 127.0.0.1:$p3 backup"
	run seq_of 2
	[ "$output" = "s1 s1" ]
	stop s1
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: [0-9]+ms. 0 active and 2 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.' 5
	run seq_of 3
	[ "$output" = "b1 b1 b1" ]
	http_srv s1 "$p1"
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s1 is UP, reason: Layer4 check passed, check duration: [0-9]+ms. 1 active and 2 backup servers online.' 5
	run seq_of 2
	[ "$output" = "s1 s1" ]
}

@test "balance: option allbackups uses every backup; no server left is said and answered 503" {
	local p1 p2
	p1=$(free_port) p2=$(free_port)
	http_srv b1 "$p1"
	http_srv b2 "$p2"
	proxy "    option allbackups
    server s1 127.0.0.1:$(free_port) check inter 200
    server b1 127.0.0.1:$p1 backup check inter 200
    server b2 127.0.0.1:$p2 backup check inter 200"
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s1 is DOWN' 5
	run seq_of 4
	[ "$output" = "b1 b2 b1 b2" ]
	stop b1
	stop b2
	wait_for_log "$LOGDIR/wsplice.log" "backend 'be' has no server available!" 5
	grep -q 'Backup Server be/b2 is DOWN' "$LOGDIR/wsplice.log"
	[ "$(get /)" = 503 ]
}

@test "balance: per-server maxconn counts open tunnels; 503 when every server is full" {
	local p1 p2
	p1=$(free_port) p2=$(free_port)
	ws_srv w1 "$p1"
	ws_srv w2 "$p2"
	proxy "    server s1 127.0.0.1:$p1 maxconn 2
    server s2 127.0.0.1:$p2 maxconn 1"
	hold h 5
	[ "$(count h w1)" -eq 2 ]
	[ "$(count h w2)" -eq 1 ]
	[ "$(count h 503)" -eq 2 ]
	# plain requests are refused too while the tunnels hold every slot
	[ "$(get /)" = 503 ]
	stop h
	wait_until 5 '[ "$(get /ws/x)" != 503 ]'
}

# --- health checks -------------------------------------------------------------------------------

@test "checks: a stopped server is DOWN within fall x inter, back UP within rise x inter" {
	local p1 p2 t0 t1 ms
	p1=$(free_port) p2=$(free_port)
	http_srv s1 "$p1"
	http_srv s2 "$p2"
	proxy "    server s1 127.0.0.1:$p1 check inter 300 fall 3 rise 2
    server s2 127.0.0.1:$p2 check inter 300 fall 3 rise 2"
	sleep 1 # both fully UP: fall counts from the top
	t0=$(date +%s%N)
	stop s1
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: [0-9]+ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.' 5
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	echo "DOWN after ${ms} ms (fall x inter = 900 ms)" >&2
	[ "$ms" -ge 550 ]
	[ "$ms" -le 1400 ]
	run seq_of 3
	[ "$output" = "s2 s2 s2" ]
	t0=$(date +%s%N)
	http_srv s1 "$p1"
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s1 is UP' 5
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "UP after ${ms} ms (rise x inter = 600 ms)" >&2
	[ "$ms" -le 1100 ]
}

@test "checks: option httpchk, expect status and string; log-health-checks lines; timeout check" {
	local p1 p2 p3
	p1=$(free_port) p2=$(free_port) p3=$(free_port)
	http_srv s1 "$p1"
	http_srv s2 "$p2"
	bg silent timeout 60 $PY -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); print("listening",flush=True)
c=[]
while True: c.append(s.accept())' "$p3"
	wait_for_log "$LOGDIR/silent.log" '^listening'
	printf '503 Service Unavailable\n' >"$LOGDIR/s1.ctl"
	printf '200 OK\nstarting\n' >"$LOGDIR/s2.ctl"
	proxy "    option httpchk GET /health
    option log-health-checks
    timeout check 300
    server s1 127.0.0.1:$p1 check inter 200 rise 1
    server s3 127.0.0.1:$p3 check inter 200
backend be_str
    option httpchk
    http-check expect string ready
    server s2 127.0.0.1:$p2 check inter 200 rise 1"
	wait_for_log "$LOGDIR/wsplice.log" 'Health check for server be/s1 failed, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: [0-9]+ms, status: 0/1 DOWN.' 5
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s1 is DOWN. ' 5
	# be_str has no log-health-checks: the reason is in the DOWN line itself
	wait_for_log "$LOGDIR/wsplice.log" 'Server be_str/s2 is DOWN, reason: Layer7 invalid response, info: "HTTP content check did not match", check duration: [0-9]+ms. 0 active' 5
	wait_for_log "$LOGDIR/wsplice.log" 'Health check for server be/s3 failed, reason: Layer7 timeout, check duration: 3[0-9][0-9]ms' 5
	printf '200 OK\n' >"$LOGDIR/s1.ctl"
	printf '200 OK\nready\n' >"$LOGDIR/s2.ctl"
	wait_for_log "$LOGDIR/wsplice.log" 'Health check for server be/s1 succeeded, reason: Layer7 check passed, code: 200, check duration: [0-9]+ms, status: 3/3 UP.' 5
	wait_for_log "$LOGDIR/wsplice.log" 'Server be_str/s2 is UP' 5
	[ "$(get /)" = s1 ]
}

@test "checks: a real WebSocket upgrade as the check, expect status 101" {
	local p1 p2
	p1=$(free_port) p2=$(free_port)
	ws_srv w1 "$p1"
	http_srv h2 "$p2"
	proxy "    option httpchk
    option log-health-checks
    http-check send meth GET uri /ws/check ver HTTP/1.1 hdr Host x hdr Upgrade websocket hdr Connection Upgrade hdr Sec-WebSocket-Key dGhlIHNhbXBsZSBub25jZQ== hdr Sec-WebSocket-Version 13
    http-check expect status 101
    server w1 127.0.0.1:$p1 check inter 200 rise 1
    server h2 127.0.0.1:$p2 check inter 200 rise 1"
	wait_for_log "$LOGDIR/wsplice.log" 'Health check for server be/h2 failed, reason: Layer7 wrong status, code: 200, info: "OK"' 5
	wait_for_log "$LOGDIR/wsplice.log" 'Health check for server be/w1 succeeded, reason: Layer7 check passed, code: 101' 5
	# the echo server saw real upgrades on the check path
	wait_for_log "$LOGDIR/w1.log" '^open w1 /ws/check' 5
	refute grep -q 'Server be/w1 is DOWN' "$LOGDIR/wsplice.log"
	# checks are not sessions: nothing in the traffic log for them, and h2 takes no tunnel
	refute grep -q '/ws/check' "$LOGDIR/wsplice.log"
	hold h 3
	[ "$(count h w1)" -eq 3 ]
}

# on_marked_down MODE: two tunnels to s1 (shutdown-sessions) and s2 (not); both servers' checks
# go to a separate health port that is then stopped.
on_marked_down() {
	local mode=$1 p1 p2 hp1 hp2
	need_bpf "$mode"
	p1=$(free_port) p2=$(free_port) hp1=$(free_port) hp2=$(free_port)
	ws_srv w1 "$p1"
	ws_srv w2 "$p2"
	http_srv hc1 "$hp1"
	http_srv hc2 "$hp2"
	proxy "    balance roundrobin
    server s1 127.0.0.1:$p1 check port $hp1 inter 200 fall 1 on-marked-down shutdown-sessions
    server s2 127.0.0.1:$p2 check port $hp2 inter 200 fall 1" "$mode"
	expect_splice_mode "$mode"
	hold h 4
	[ "$(count h w1)" -eq 2 ]
	[ "$(count h w2)" -eq 2 ]
	if [ "$mode" = bpf ]; then
		wait_until 5 '[ "$(info SplicedTunnels)" -ge 4 ]'
	fi
	stop hc1
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s1 is DOWN, reason: Layer4 connection problem, .* 2 sessions active' 5
	wait_until 5 '[ "$(grep -c ^closed "$LOGDIR/h.log")" -eq 2 ]'
	wait_for_log "$LOGDIR/wsplice.log" 'fe be/s1 .* 101 .* DD-- ' 5
	[ "$(grep -c ' DD-- ' "$LOGDIR/wsplice.log")" -eq 2 ]
	# s2 went DOWN without shutdown-sessions: its tunnels stay
	stop hc2
	wait_for_log "$LOGDIR/wsplice.log" 'Server be/s2 is DOWN' 5
	sleep 0.5
	[ "$(grep -c ^closed "$LOGDIR/h.log")" -eq 2 ]
	[ "$(info CurrTunnels)" -eq 2 ]
}

@test "checks: on-marked-down shutdown-sessions closes the server's tunnels (BPF)" {
	on_marked_down bpf
}

@test "checks: on-marked-down shutdown-sessions closes the server's tunnels (userspace)" {
	on_marked_down user
}
