#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Traffic logs in HAProxy 2.6's formats (docs/logging.md), read field by field: option httplog,
# option tcplog, log-format, logasap, dontlognull, the "Connect from" line, tunnel lines at close
# with exact byte counts and termination states on both data paths, and the log targets (stdout,
# UDP syslog, a unix datagram socket) with their framings. The expected lines were taken from
# HAProxy 2.6 on the same traffic (tests/peers/tunnel_peer.py is the same on both).

setup() {
	load helpers
	common_setup
	need_daemon
	P_HTTP=$(free_port)
	P_U=$(free_port)
	P_ASAP=$(free_port)
	P_NULL=$(free_port)
	P_LF=$(free_port)
	P_PLAIN=$(free_port)
	P_TCP=$(free_port)
	P_TASAP=$(free_port)
	P_NOBE=$(free_port)
	P_WS=$(free_port)
	P_FIN=$(free_port)
	P_RST=$(free_port)
	P_WEB=$(free_port)
	STATS_SOCK=$LOGDIR/wsplice.sock
	TUNNEL=30s
	GLOBAL_LOG="    log stdout format raw local0"
	EXTRA=
	TP="$PY $PEERS/tunnel_peer.py"
}

teardown() {
	common_teardown
}

# The backends every frontend below routes to.
routes() {
	cat <<EOF
    use_backend be_fin if { path_beg /ws/fin }
    use_backend be_rst if { path_beg /ws/rst }
    use_backend be_ws if { path_beg /ws }
    use_backend be_ck if { path_beg /ck }
    default_backend be_web
EOF
}

# logs_cfg: a frontend per way of logging, the servers of the peers below.
logs_cfg() {
	# the global log lines are the test's; each frontend says how it logs
	cfg_head "$LOGDIR/wsplice.cfg" log= global="$GLOBAL_LOG" httplog= tunnel="$TUNNEL" <<EOF
frontend fe_http
    bind 127.0.0.1:$P_HTTP
    option httplog
    monitor-uri /mon
    http-request deny if { path /deny }
    http-request return status 200 content-type text/plain string ok if { path /ret }
$(routes)
frontend fe_u
    bind 127.0.0.1:$P_U
    log-format "$LOGFMT_U"
$(routes)
frontend fe_asap
    bind 127.0.0.1:$P_ASAP
    option httplog
    option logasap
$(routes)
frontend fe_null
    bind 127.0.0.1:$P_NULL
    option httplog
    option dontlognull
$(routes)
frontend fe_lf
    bind 127.0.0.1:$P_LF
    log-format "%ci|%cp|%fi|%fp|%si|%sp|%ST|%B|%U|%HM|%HU|%HP|%HV|%f|%b|%s|%pid|%ID|%ts|%tsc|%{+Q}r|%{+Q}b|%%"
$(routes)
frontend fe_plain
    bind 127.0.0.1:$P_PLAIN
$(routes)
frontend fe_tcp
    mode tcp
    bind 127.0.0.1:$P_TCP
    option tcplog
    default_backend be_tcp
frontend fe_nobe
    bind 127.0.0.1:$P_NOBE
    option httplog
frontend fe_tasap
    mode tcp
    bind 127.0.0.1:$P_TASAP
    option tcplog
    option logasap
    default_backend be_tcp
backend be_ws
    server ws 127.0.0.1:$P_WS
backend be_fin
    server fin 127.0.0.1:$P_FIN
backend be_rst
    server rst 127.0.0.1:$P_RST
backend be_web
    server web 127.0.0.1:$P_WEB
backend be_ck
    cookie SRV insert indirect nocache
    server w1 127.0.0.1:$P_WEB cookie w1
    server w2 127.0.0.1:$P_WEB cookie w2
backend be_tcp
    mode tcp
    server tcp 127.0.0.1:$P_WS
$EXTRA
EOF
}

# start MODE: the peers, and wsplice on data path MODE (bpf or user).
start() {
	need_bpf "$1"
	bg ws timeout 120 $TP server "$P_WS"
	bg fin timeout 120 $TP server "$P_FIN" --end fin --after 100
	bg rst timeout 120 $TP server "$P_RST" --end rst --after 100
	bg web timeout 120 $PY "$PEERS/bad_server.py" "$P_WEB" cl --size 1000
	logs_cfg
	start_wsplice "$LOGDIR/wsplice.cfg" $(path_args "$1")
	wait_for_port "$P_HTTP"
	wait_for_port "$P_WS"
	wait_for_port "$P_FIN"
	wait_for_port "$P_RST"
	wait_for_port "$P_WEB"
	expect_splice_mode "$1"
}

# line REGEX: the one log line matching REGEX (waits for it; fails if there are several).
line() {
	wait_for_log "$LOGDIR/wsplice.log" "$1" 10 >&2 || return 1
	local n
	n=$(grep -Ec -- "$1" "$LOGDIR/wsplice.log")
	[ "$n" -eq 1 ] || {
		echo "$n lines match '$1':" >&2
		grep -E -- "$1" "$LOGDIR/wsplice.log" >&2
		return 1
	}
	grep -E -- "$1" "$LOGDIR/wsplice.log"
}

# tunnel NAME PORT ARGS...: runs a tunnel_peer client; sets REQ, RESP, SENT, RECV, CPORT.
tunnel() {
	local name=$1 port=$2
	shift 2
	run timeout 40 $TP client "$port" "$@"
	echo "$output"
	[ "$status" -eq 0 ] || return 1
	[[ $output =~ connected\ ([0-9]+).*ok\ req=([0-9]+)\ resp=([0-9]+)\ sent=([0-9]+)\ recv=([0-9]+) ]] ||
		return 1
	CPORT=${BASH_REMATCH[1]} REQ=${BASH_REMATCH[2]} RESP=${BASH_REMATCH[3]}
	SENT=${BASH_REMATCH[4]} RECV=${BASH_REMATCH[5]}
}

# check_u LINE PATH BACKEND/SERVER TERM: a LOGFMT_U line (helpers.bash) of a 101 tunnel, field by
# field, with exact byte counts: to the client the 101 head and what it received, from the client
# its request and what it sent.
check_u() {
	local -a f
	read -r -a f <<<"$1"
	echo "fields: ${f[*]}"
	[ "${f[0]}" = "127.0.0.1:$CPORT" ]
	[[ ${f[1]} =~ ^\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\]$ ]]
	[ "${f[2]}" = fe_u ]
	[ "${f[3]}" = "$3" ]
	[[ ${f[4]} =~ ^[0-9]+/0/[0-9]+/[0-9]+/[0-9]+$ ]]
	[ "${f[5]}" = 101 ]
	[ "${f[6]}" = $((RESP + RECV)) ]
	[ "${f[7]}" = $((REQ + SENT)) ]
	[ "${f[8]}" = "$4" ]
	[[ ${f[9]} =~ ^[0-9]+/[0-9]+/0/0/0$ ]]
	[ "${f[10]}" = 0/0 ]
	[ "${f[*]:11}" = "\"GET $2 HTTP/1.1\"" ]
}

@test "logs: option httplog, an HTTP request, field by field" {
	start user
	run timeout 10 $PY - "$P_HTTP" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /page?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
n = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    n += len(d)
print(s.getsockname()[1], n)
EOF
	echo "$output"
	[ "$status" -eq 0 ]
	local cport got l
	read -r cport got <<<"$output"
	l=$(line '"GET /page\?x=1 HTTP/1.1"$')
	echo "$l"
	local -a f
	read -r -a f <<<"$l"
	[ "${f[0]}" = "127.0.0.1:$cport" ]
	[[ ${f[1]} =~ ^\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\]$ ]]
	[ "${f[2]}" = fe_http ]
	[ "${f[3]}" = be_web/web ]
	[[ ${f[4]} =~ ^[0-9]+/0/[0-9]+/[0-9]+/[0-9]+$ ]]
	[ "${f[5]}" = 200 ]
	[ "${f[6]}" = "$got" ]	# every byte the client received
	[ "${f[7]}" = - ]	# %CC %CS: no captured cookie
	[ "${f[8]}" = - ]
	[ "${f[9]}" = ---- ]
	[[ ${f[10]} =~ ^[0-9]+/1/0/0/0$ ]]
	[ "${f[11]}" = 0/0 ]
	[ "${#f[@]}" -eq 15 ]	# nothing for %hr %hs: no capture
	# the date is the request's, today's (local time)
	[[ ${f[1]} == "[$(date +%d/%b/%Y):"* ]]
}

tunnel_ends() {
	start "$1"
	# the client closes normally
	tunnel a "$P_U" --path /ws/a --send 100 --end fin
	check_u "$(line '"GET /ws/a HTTP/1.1"')" /ws/a be_ws/ws ----
	# the client resets
	tunnel b "$P_U" --path /ws/b --send 1000 --end rst
	check_u "$(line '"GET /ws/b HTTP/1.1"')" /ws/b be_ws/ws CD--
	# the server closes after 100 bytes (HAProxy 2.6 logs "----" too)
	tunnel c "$P_U" --path /ws/fin/c --send 100 --end wait
	check_u "$(line '"GET /ws/fin/c HTTP/1.1"')" /ws/fin/c be_fin/fin ----
	# the server resets after 100 bytes
	tunnel d "$P_U" --path /ws/rst/d --send 100 --end wait
	check_u "$(line '"GET /ws/rst/d HTTP/1.1"')" /ws/rst/d be_rst/rst SD--
	# 64 KiB each way: the kernel's (or the relay's) counters, exact
	tunnel e "$P_U" --path /ws/e --send 65536 --end fin
	check_u "$(line '"GET /ws/e HTTP/1.1"')" /ws/e be_ws/ws ----
}

@test "logs: tunnel lines at close, client and server endings, exact bytes (BPF)" {
	tunnel_ends bpf
}

@test "logs: tunnel lines at close, client and server endings, exact bytes (userspace)" {
	tunnel_ends user
}

# The tunnel's idle timeout: cD, after about "timeout tunnel".
tunnel_idle() {
	TUNNEL=1s
	start "$1"
	tunnel i "$P_U" --path /ws/idle --send 10 --end idle
	local l
	l=$(line '"GET /ws/idle HTTP/1.1"')
	check_u "$l" /ws/idle be_ws/ws cD--
	local -a f t
	read -r -a f <<<"$l"
	IFS=/ read -r -a t <<<"${f[4]}"
	echo "Ta ${t[4]} ms"
	[ "${t[4]}" -ge 900 ]
	[ "${t[4]}" -le 10000 ]
}

@test "logs: a tunnel's idle timeout is cD (BPF)" {
	tunnel_idle bpf
}

@test "logs: a tunnel's idle timeout is cD (userspace)" {
	tunnel_idle user
}

# "shutdown session ID" on the stats socket: KD.
tunnel_kill() {
	start "$1"
	bg k timeout 40 $TP client "$P_U" --path /ws/kill --send 5 --end idle
	wait_for_log "$LOGDIR/k.log" '^connected'
	CPORT=$(sed -n 's/^connected //p' "$LOGDIR/k.log")
	local id
	wait_until 5 "stats_cmd 'show sess' | grep -q 'src=127.0.0.1:$CPORT .*state=tunnel'"
	id=$(stats_cmd "show sess" | grep "src=127.0.0.1:$CPORT " | cut -d: -f1)
	echo "session $id"
	stats_cmd "shutdown session $id"
	wait_for_log "$LOGDIR/k.log" '^ok '
	[[ $(cat "$LOGDIR/k.log") =~ ok\ req=([0-9]+)\ resp=([0-9]+)\ sent=([0-9]+)\ recv=([0-9]+) ]]
	REQ=${BASH_REMATCH[1]} RESP=${BASH_REMATCH[2]} SENT=${BASH_REMATCH[3]} RECV=${BASH_REMATCH[4]}
	check_u "$(line '"GET /ws/kill HTTP/1.1"')" /ws/kill be_ws/ws KD--
}

@test "logs: an admin's shutdown session is KD (BPF)" {
	tunnel_kill bpf
}

@test "logs: an admin's shutdown session is KD (userspace)" {
	tunnel_kill user
}

@test "logs: option logasap, one line at the 101 with + before the time and the bytes" {
	start bpf
	tunnel a "$P_ASAP" --path /ws/asap --send 5000 --end fin
	# once closed, still one line: the one written at the 101, the 101 head its only bytes
	sleep 0.5
	local l
	l=$(line '"GET /ws/asap HTTP/1.1"')
	echo "$l"
	local -a f
	read -r -a f <<<"$l"
	[ "${f[2]}" = fe_asap ]
	[[ ${f[4]} =~ ^[0-9]+/0/[0-9]+/[0-9]+/\+[0-9]+$ ]]
	[ "${f[5]}" = 101 ]
	[ "${f[6]}" = "+$RESP" ]
	# at the 101 the server is still counted: 1 backend connection, 1 on the server
	[[ ${f[10]} =~ ^[0-9]+/1/1/1/0$ ]]
}

@test "logs: option logasap on a plain response, and in mode tcp once the server accepted" {
	start user
	run timeout 10 curl -s -o /dev/null -w '%{size_header} %{size_download}' "http://127.0.0.1:$P_ASAP/asap"
	[ "$status" -eq 0 ]
	local head body l
	read -r head body <<<"$output"
	l=$(line '"GET /asap HTTP/1.1"')
	echo "$l"
	local -a f
	read -r -a f <<<"$l"
	[[ ${f[4]} =~ ^[0-9]+/0/[0-9]+/[0-9]+/\+[0-9]+$ ]]
	[ "${f[5]}" = 200 ]
	# what went out by the response head: the head at least, the whole response at most
	[[ ${f[6]} =~ ^\+([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -ge "$head" ]
	[ "${BASH_REMATCH[1]}" -le $((head + body)) ]
	# mode tcp (HAProxy 2.6: "1/3/+3 +0 -- 1/1/1/1/0 0/0"): nothing sent yet, server counted
	tunnel t "$P_TASAP" --path /ws/tasap --send 100 --end fin
	sleep 0.3
	l=$(line " fe_tasap be_tcp/tcp ")
	echo "$l"
	read -r -a f <<<"$l"
	[ "${f[0]}" = "127.0.0.1:$CPORT" ]
	[[ ${f[4]} =~ ^0/[0-9]+/\+[0-9]+$ ]]
	[ "${f[5]}" = +0 ]
	[ "${f[6]}" = -- ]
	[[ ${f[7]} =~ ^[0-9]+/1/1/1/0$ ]]
}

@test "logs: the cookie flags of the termination state, as HAProxy 2.6 prints them" {
	start user
	# no cookie: one inserted (HAProxy 2.6: --NI); the right one: kept (--VN)
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/ck/a"
	line ' be_ck/w[12] .* --NI .*"GET /ck/a HTTP/1.1"$'
	timeout 5 curl -s -o /dev/null -H 'Cookie: SRV=w1' "http://127.0.0.1:$P_HTTP/ck/b"
	line ' be_ck/w1 .* --VN .*"GET /ck/b HTTP/1.1"$'
	# a cookie naming no server: invalid, a new one inserted (--II)
	timeout 5 curl -s -o /dev/null -H 'Cookie: SRV=zz' "http://127.0.0.1:$P_HTTP/ck/c"
	line ' be_ck/w[12] .* --II .*"GET /ck/c HTTP/1.1"$'
	# a server in maintenance: its cookie is "down", the other server takes it (--DI)
	stats_cmd "disable server be_ck/w2"
	timeout 5 curl -s -o /dev/null -H 'Cookie: SRV=w2' "http://127.0.0.1:$P_HTTP/ck/d"
	line ' be_ck/w1 .* --DI .*"GET /ck/d HTTP/1.1"$'
	# a backend without a cookie line: "--"
	timeout 5 curl -s -o /dev/null -H 'Cookie: SRV=w1' "http://127.0.0.1:$P_HTTP/nock"
	line ' be_web/web .* ---- .*"GET /nock HTTP/1.1"$'
}

@test "logs: deny is PR, return LR, no backend SC, and monitor-uri is not logged, as HAProxy 2.6" {
	start user
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/mon"
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/deny"
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/ret"
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_NOBE/x"
	# (HAProxy 2.6: "fe fe/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- ...", "... 200 73 - - LR-- ...",
	# "fe_log fe_log/<NOSRV> -1/-1/-1/-1/0 503 217 - - SC-- ..."; the bytes are HTX's there)
	line ' fe_http fe_http/<NOSRV> 0/-1/-1/-1/[0-9]+ 403 [0-9]+ - - PR-- [0-9]+/1/0/0/0 0/0 "GET /deny HTTP/1.1"$'
	line ' fe_http fe_http/<NOSRV> 0/-1/-1/-1/[0-9]+ 200 [0-9]+ - - LR-- [0-9]+/1/0/0/0 0/0 "GET /ret HTTP/1.1"$'
	line ' fe_nobe fe_nobe/<NOSRV> [-0-9]+/-1/-1/-1/[0-9]+ 503 [0-9]+ - - SC-- [0-9]+/1/0/0/0 0/0 "GET /x HTTP/1.1"$'
	refute grep -q 'GET /mon ' "$LOGDIR/wsplice.log"
}

@test "logs: an empty connection: 400 CR <BADREQ>, none with option dontlognull" {
	start user
	timeout 5 $PY -c "
import socket, sys, time
for p in sys.argv[1:]:
    s = socket.create_connection(('127.0.0.1', int(p)))
    time.sleep(0.2)
    s.close()
" "$P_NULL" "$P_HTTP"
	local l
	# (wait_for_port's probe made one too, closed at once: Ta below 150 ms)
	l=$(line ' fe_http fe_http/<NOSRV> -1/-1/-1/-1/(1[5-9][0-9]|[2-9][0-9]{2}|[0-9]{4,}) ')
	echo "$l"
	local -a f
	read -r -a f <<<"$l"
	[[ ${f[4]} =~ ^-1/-1/-1/-1/[0-9]+$ ]]
	[ "${f[5]}" = 400 ]
	[ "${f[6]}" = 0 ]
	[ "${f[9]}" = CR-- ]
	[ "${f[12]}" = '"<BADREQ>"' ]
	# the dontlognull frontend's connection was first, and wrote nothing
	refute grep -q ' fe_null ' "$LOGDIR/wsplice.log"
	# a kept-alive connection closing between requests writes nothing either
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_NULL/a" "http://127.0.0.1:$P_NULL/b"
	line '"GET /b HTTP/1.1"'
	[ "$(grep -c ' fe_null ' "$LOGDIR/wsplice.log")" -eq 2 ]
}

@test "logs: log-format variables, quoted and plain" {
	start user
	tunnel a "$P_LF" --path '/ws/lf?q=%22"x' --send 10 --end fin
	local l
	l=$(line '^127\.0\.0\.1\|')
	echo "$l"
	local want="127.0.0.1|$CPORT|127.0.0.1|$P_LF|127.0.0.1|$P_WS|101|$((RESP + RECV))|$((REQ + SENT))"
	want+="|GET|/ws/lf?q=%22#22x|/ws/lf|HTTP/1.1|fe_lf|be_ws|ws|$DAEMON_PID|-|--|----"
	want+='|"GET /ws/lf?q=%22#22x HTTP/1.1"|"be_ws"|%'
	[ "$l" = "$want" ]
}

@test "logs: a frontend without a format logs 'Connect from' at accept" {
	start user
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_PLAIN/x"
	line "^Connect from 127\.0\.0\.1:[0-9]+ to 127\.0\.0\.1:$P_PLAIN \(fe_plain/HTTP\)$"
	sleep 0.3
	refute grep -q '"GET /x HTTP/1.1"' "$LOGDIR/wsplice.log"
}

tcplog() {
	start "$1"
	tunnel t "$P_TCP" --path /ws/tcp --send 3000 --end fin
	local l
	l=$(line " fe_tcp be_tcp/tcp ")
	echo "$l"
	local -a f
	read -r -a f <<<"$l"
	[ "${f[0]}" = "127.0.0.1:$CPORT" ]
	[[ ${f[1]} =~ ^\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\]$ ]]
	[[ ${f[4]} =~ ^0/[0-9]+/[0-9]+$ ]]
	[ "${f[5]}" = $((RESP + RECV)) ]	# mode tcp: the 101 is tunnel data too
	[ "${f[6]}" = -- ]
	[[ ${f[7]} =~ ^[0-9]+/1/0/0/0$ ]]
	[ "${f[8]}" = 0/0 ]
	[ "${#f[@]}" -eq 9 ]
}

@test "logs: option tcplog, exact bytes (BPF)" {
	tcplog bpf
}

@test "logs: option tcplog, exact bytes (userspace)" {
	tcplog user
}

@test "logs: UDP syslog: RFC 3164 with PRI, tag and pid; len; short; rfc5424; max level" {
	local u1 u2 u3 u4
	u1=$(free_port) u2=$(free_port) u3=$(free_port) u4=$(free_port)
	bg r1 timeout 60 $PY "$PEERS/syslog_recv.py" udp "$u1"
	bg r2 timeout 60 $PY "$PEERS/syslog_recv.py" udp "$u2"
	bg r3 timeout 60 $PY "$PEERS/syslog_recv.py" udp "$u3"
	bg r4 timeout 60 $PY "$PEERS/syslog_recv.py" udp "$u4"
	for r in r1 r2 r3 r4; do wait_for_log "$LOGDIR/$r.log" '^listening'; done
	GLOBAL_LOG="    log 127.0.0.1:$u1 local1
    log udp@127.0.0.1:$u2 len 120 format rfc3164 local2 info
    log 127.0.0.1:$u3 format short daemon info err
    log 127.0.0.1:$u4 format rfc5424 local0 notice"
	start user
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/syslog"
	wait_for_log "$LOGDIR/r1.log" 'GET /syslog'
	local l
	l=$(grep 'GET /syslog' "$LOGDIR/r1.log")
	echo "$l"
	# local1 (17) * 8 + info (6) = 142; HAProxy 2.6 writes "localhost" as the host
	[[ $l =~ ^([0-9]+)\ \<142\>[A-Z][a-z]{2}\ [\ 0-9][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ localhost\ wsplice\[$DAEMON_PID\]:\ 127\.0\.0\.1:[0-9]+\ \[.*\]\ fe_http\ be_web/web\ .*\ 200\ .*\"GET\ /syslog\ HTTP/1.1\"$ ]]
	# the datagram's length: the line and its newline
	[ "${BASH_REMATCH[1]}" -eq $((${#l} - ${#BASH_REMATCH[1]})) ]
	# len 120: 120 bytes and the newline
	wait_for_log "$LOGDIR/r2.log" '^121 <150>'
	grep -E "^121 <150>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} localhost wsplice\[$DAEMON_PID\]: 127\.0\.0\.1:" \
		"$LOGDIR/r2.log"
	# short: the severity alone (a minimum level below info does not raise it)
	wait_for_log "$LOGDIR/r3.log" '^[0-9]+ <6>127\.0\.0\.1:[0-9]+ \[.*"GET /syslog HTTP/1.1"$'
	# notice as the maximum level: an info line is not sent (the others got theirs already)
	sleep 0.3
	[ "$(cat "$LOGDIR/r4.log")" = listening ]
	# the stdout target is absent: nothing in the daemon's output
	refute grep -q 'GET /syslog' "$LOGDIR/wsplice.log"
}

@test "logs: a line past 1024 bytes is cut to 1023 and its newline, as HAProxy 2.6 does" {
	start user
	local long
	long=/$(printf 'a%.0s' {1..3000})
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP$long"
	wait_for_log "$LOGDIR/wsplice.log" ' fe_http be_web/web .*aaaa'
	local l
	l=$(grep -E ' fe_http be_web/web .*aaaa' "$LOGDIR/wsplice.log")
	echo "${#l}"
	[ "${#l}" -eq 1023 ]
	[[ $l == *'"GET /aaaa'* ]]
}

@test "logs: a proxy's own log target, besides log global; no log" {
	local u1
	u1=$(free_port)
	bg r1 timeout 60 $PY "$PEERS/syslog_recv.py" udp "$u1"
	wait_for_log "$LOGDIR/r1.log" '^listening'
	start user
	# fe_http gets a target of its own; fe_plain logs nothing at all
	sed -i -e "/^frontend fe_http\$/a\    log 127.0.0.1:$u1 format short local3" \
		-e "/^frontend fe_plain\$/a\    no log" "$LOGDIR/wsplice.cfg"
	kill "$wsplice_PID"
	timeout 5 tail --pid="$wsplice_PID" -f /dev/null
	start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_for_port "$P_HTTP"
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/own"
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_PLAIN/nolog"
	wait_for_log "$LOGDIR/r1.log" '^[0-9]+ <6>127\.0\.0\.1:[0-9]+ \[.*\] fe_http be_web/web .*"GET /own HTTP/1.1"$'
	line '"GET /own HTTP/1.1"$'
	sleep 0.3
	refute grep -q "to 127.0.0.1:$P_PLAIN" "$LOGDIR/wsplice.log"
	refute grep -q "to 127.0.0.1:$P_PLAIN" "$LOGDIR/r1.log"
}

@test "logs: health checks at HAProxy's severities: notice, alert when DOWN, emerg with no server" {
	local u1 p
	u1=$(free_port) p=$(free_port)
	bg r1 timeout 60 $PY "$PEERS/syslog_recv.py" udp "$u1"
	wait_for_log "$LOGDIR/r1.log" '^listening'
	bg chk timeout 60 $PY "$PEERS/bad_server.py" "$p" cl
	wait_for_port "$p"
	GLOBAL_LOG="    log 127.0.0.1:$u1 format short local0"
	EXTRA="backend be_chk
    option log-health-checks
    server c1 127.0.0.1:$p check inter 200 fall 1 rise 1"
	start user
	kill "$chk_PID"
	# HAProxy 2.6 on the same events: <5>Health check ... failed, <1>Server ... is DOWN,
	# <0>backend be has no server available! (the name quoted on stderr only)
	wait_for_log "$LOGDIR/r1.log" '^[0-9]+ <5>Health check for server be_chk/c1 failed, reason: Layer4 connection problem'
	wait_for_log "$LOGDIR/r1.log" '^[0-9]+ <1>Server be_chk/c1 is DOWN\. 0 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$'
	wait_for_log "$LOGDIR/r1.log" "^[0-9]+ <0>backend be_chk has no server available!$"
}

@test "logs: RFC 5424 and a unix datagram socket" {
	local sock=$LOGDIR/log.sock
	bg r1 timeout 60 $PY "$PEERS/syslog_recv.py" unix "$sock"
	wait_for_log "$LOGDIR/r1.log" '^listening'
	GLOBAL_LOG="    log $sock format rfc5424 local0"
	start user
	timeout 5 curl -s -o /dev/null "http://127.0.0.1:$P_HTTP/unix"
	wait_for_log "$LOGDIR/r1.log" 'GET /unix'
	grep -E "^[0-9]+ <134>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[-+][0-9]{2}:[0-9]{2} - wsplice $DAEMON_PID - - 127\.0\.0\.1:[0-9]+ .*\"GET /unix HTTP/1\.1\"$" \
		"$LOGDIR/r1.log"
}

@test "logs: a log socket nobody reads never blocks traffic: dropped, counted, the other target gets every line" {
	local sock=$LOGDIR/stuck.sock
	bg r1 timeout 120 $PY "$PEERS/syslog_recv.py" unix "$sock" --no-read
	wait_for_log "$LOGDIR/r1.log" '^listening'
	GLOBAL_LOG="    log $sock local0
    log stdout format raw local0"
	start user
	# far more lines than the socket's queue holds (net.unix.max_dgram_qlen, 10 by default)
	local i urls=()
	for ((i = 0; i < 200; i++)); do urls+=(-o /dev/null "http://127.0.0.1:$P_HTTP/n$i"); done
	run timeout 30 curl -s -w '%{http_code}\n' "${urls[@]}"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^200$')" -eq 200 ]
	# and every line still reached the other target
	wait_until 5 '[ "$(grep -c "\"GET /n[0-9]* HTTP/1.1\"" "$LOGDIR/wsplice.log")" -eq 200 ]'
	# what the stuck socket could not take was dropped, and counted as HAProxy's DroppedLogs
	local dropped
	dropped=$(info DroppedLogs)
	echo "DroppedLogs $dropped"
	[ "$dropped" -ge 150 ]
	[ "$dropped" -le 201 ]	# (wait_for_port's probe made a line too)
}

@test "logs: configuration errors name the file and line" {
	printf 'frontend fe\n    bind :1\n    log-format "%%ci %%zz"\n' >"$LOGDIR/bad.cfg"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/bad.cfg"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"parsing [$LOGDIR/bad.cfg:3] : failed to parse log-format : no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'."* ]]
	printf 'global\n    log stdout format raw\n' >"$LOGDIR/bad.cfg"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/bad.cfg"
	[ "$status" -eq 1 ]
	[[ $output == *"parsing [$LOGDIR/bad.cfg:2] : log : unknown log facility ''"* ]]
	printf 'backend be\n    option httplog\n' >"$LOGDIR/w.cfg"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/w.cfg"
	[[ $output == *"backend 'be' : 'option httplog' directive is ignored in backends."* ]]
}
