#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# "http-request use-service prometheus-exporter": the page is scraped with curl and read by
# tests/peers/prom_parse.py, which refuses anything a Prometheus server would refuse. Its
# figures must move with real HTTP requests and real tunnels (on both data paths) and agree with
# "show info" and "show stat" on the stats socket.

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
	HTTP=$(free_port)
	STATS_SOCK=$LOGDIR/wsplice.sock
	mkdir -p "$LOGDIR/www"
	echo hello >"$LOGDIR/www/hello.txt"
	# python's http.server: 200 for the file, 404 for anything else, every request in its log
	bg http timeout 300 $PY -m http.server "$HTTP" --bind 127.0.0.1 --directory "$LOGDIR/www"
	wait_for_port "$HTTP"
}

teardown() {
	common_teardown
	dump_logs
}

# start_proxy MODE: the daemon on data path MODE (bpf or user) with the exporter on /metrics in
# the frontend and on /be/metrics in a backend.
start_proxy() {
	need_bpf "$1"
	cfg_head "$LOGDIR/w.cfg" tunnel=1h <<EOF
frontend fe_main
    bind 127.0.0.1:$FE
    http-request use-service prometheus-exporter if { path /metrics }
    http-request deny if { path /deny }
    use_backend websocket_servers if { path_beg /ws }
    default_backend http_servers
backend websocket_servers
    option http-server-close
    server s1 127.0.0.1:$WS
backend http_servers
    http-request use-service prometheus-exporter if { path /be/metrics }
    server h1 127.0.0.1:$HTTP
EOF
	start_wsplice "$LOGDIR/w.cfg" $(path_args "$1")
	wait_for_port "$FE"
	expect_splice_mode "$1"
}

# scrape NAME [PATH]: GET the page into $LOGDIR/NAME.txt (head in NAME.hdr), validate it and
# write its samples to NAME.samples. Sets SCRAPE to "status request_bytes head_bytes body_bytes"
# as curl counted them.
scrape() {
	local name=$1 path=${2:-/metrics}
	SCRAPE=$(timeout 10 curl -sS -o "$LOGDIR/$name.txt" -D "$LOGDIR/$name.hdr" \
		-w '%{http_code} %{size_request} %{size_header} %{size_download}' \
		"http://127.0.0.1:$FE$path")
	echo "scrape $name: $SCRAPE"
	[ "${SCRAPE%% *}" = 200 ]
	timeout 10 $PY "$PEERS/prom_parse.py" "$LOGDIR/$name.txt" >"$LOGDIR/$name.samples"
}

# pv NAME SERIES: the value of SERIES (labels sorted by name) in scrape NAME; fails when absent.
pv() {
	awk -v k="$2" '$1 == k { print $2; f = 1 } END { exit !f }' "$LOGDIR/$1.samples" || {
		echo "no series $2 in scrape $1" >&2
		return 1
	}
}

# stat_col PXNAME SVNAME COL: column COL (1-based) of that row of "show stat", saved in $LOGDIR/stat.
stat_col() {
	awk -F, -v p="$1" -v s="$2" -v c="$3" '$1 == p && $2 == s { print $c; f = 1 }
		END { exit !f }' "$LOGDIR/stat"
}

@test "prometheus: a valid page with HAProxy's head, HEAD, keep-alive, other paths reach the backend" {
	start_proxy user
	scrape m1
	grep -qx $'content-type: text/plain; version=0.0.4\r' "$LOGDIR/m1.hdr"
	grep -qx $'cache-control: no-cache\r' "$LOGDIR/m1.hdr"
	grep -qx $"content-length: $(wc -c <"$LOGDIR/m1.txt")"$'\r' "$LOGDIR/m1.hdr"
	# every family the docs list is there, with HELP and TYPE (the parser checked the TYPE)
	local f
	for f in haproxy_process_current_connections haproxy_process_uptime_seconds \
		haproxy_frontend_sessions_total haproxy_backend_bytes_in_total \
		haproxy_server_status wsplice_kernel_bytes_total wsplice_bpf_stat_total; do
		grep -q "^# HELP $f " "$LOGDIR/m1.txt"
	done
	pv m1 'haproxy_server_status{proxy="http_servers",server="h1",state="UP"}' | grep -qx 1
	pv m1 'haproxy_server_status{proxy="http_servers",server="h1",state="DOWN"}' | grep -qx 0
	[ "$(grep -c '^wsplice_bpf_stat_total{' "$LOGDIR/m1.samples")" -eq 10 ]
	# the backend's rule answers too
	scrape m2 /be/metrics

	# one connection: GET, HEAD (the same head, no body), GET, then a path for the backend
	printf 'GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n' >"$LOGDIR/r1"
	printf 'HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n' >"$LOGDIR/r2"
	printf 'GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n' >"$LOGDIR/r3"
	run timeout 20 $PY "$PEERS/http_raw.py" "$FE" "$LOGDIR/r1" "$LOGDIR/r2" "$LOGDIR/r1" "$LOGDIR/r3"
	echo "${output:0:600}"
	grep -n '^HTTP/\|^## ' <<<"$output" || true
	[ "$status" -eq 0 ]
	# three from the proxy, then the server's (python answers in HTTP/1.0)
	[ "$(grep -c $'^HTTP/1.1 200 OK\r$' <<<"$output")" -eq 3 ]
	[ "$(grep -c $'^HTTP/1.[01] 200 OK\r$' <<<"$output")" -eq 4 ]
	# the HEAD answer is a head only: the next line is the third response's status line
	$PY - "$output" <<'EOF'
import re, sys
resp = re.split(r"(?=^HTTP/1\.[01] )", sys.argv[1], flags=re.M)
resp = [r for r in resp if r]
get, head, get2 = resp[0], resp[1], resp[2]
assert head.endswith("\r\n\r\n"), repr(head[-200:])
assert "content-length: " in head and "version=0.0.4" in head, head
assert "# TYPE haproxy_process_uptime_seconds gauge" in get2
assert "connection: close" not in get + head + get2
assert "hello\n" in resp[3], resp[3]
EOF
	# only the last request went to the server
	[ "$(grep -c '"GET /hello.txt HTTP/1.1" 200' "$LOGDIR/http.log")" -eq 1 ]
	refute grep -q metrics "$LOGDIR/http.log"
	# HTTP/1.0 without keep-alive: the answer says it closes, and does
	run bash -c "printf 'GET /metrics HTTP/1.0\r\n\r\n' | timeout 5 socat -t 5 - TCP:127.0.0.1:$FE"
	grep -q $'^connection: close\r$' <<<"$output"
	grep -q '^wsplice_tunnels_total 0$' <<<"$output"
	# logged as HAProxy does, termination state "LR" (locally processed); HAProxy names the
	# backend and server "fe_main/<PROMEX>" where wsplice's log says "<NOSRV>/<NOSRV>"
	wait_for_log "$LOGDIR/wsplice.log" ' fe_main [^ ]+/<NOSRV> [-0-9/]+ 200 [0-9]+ - - LR-- .*"GET /metrics HTTP/1.1"'
}

@test "prometheus: HTTP counters move with real requests and agree with show stat and show info" {
	start_proxy user
	local i a b
	for i in 1 2 3; do
		timeout 5 curl -sf "http://127.0.0.1:$FE/hello.txt" >/dev/null
	done
	[ "$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/nope")" = 404 ]
	[ "$(timeout 5 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FE/deny")" = 403 ]
	# every transaction is counted when it ends: wait for the last one on the socket, which
	# is no HTTP request and changes no counter
	wait_until 5 '[ "$(stats_cmd "show stat" | grep "^fe_main,FRONTEND," | cut -d, -f43)" = 2 ]'
	scrape m
	read -r _ req hdr body <<<"$SCRAPE"
	stats_cmd "show stat" >"$LOGDIR/stat"
	stats_cmd "show info" >"$LOGDIR/info"
	cat "$LOGDIR/stat" "$LOGDIR/info"

	# what the requests did (and wait_for_port's connection, and the scrape's): 3 x 200 and a 404 from the server, a 403 denied by the frontend
	pv m 'haproxy_frontend_http_responses_total{code="2xx",proxy="fe_main"}' | grep -qx 3
	pv m 'haproxy_frontend_http_responses_total{code="4xx",proxy="fe_main"}' | grep -qx 2
	pv m 'haproxy_frontend_requests_denied_total{proxy="fe_main"}' | grep -qx 1
	pv m 'haproxy_backend_http_responses_total{code="2xx",proxy="http_servers"}' | grep -qx 3
	pv m 'haproxy_backend_http_responses_total{code="4xx",proxy="http_servers"}' | grep -qx 1
	pv m 'haproxy_backend_requests_denied_total{proxy="http_servers"}' | grep -qx 0
	pv m 'haproxy_server_http_responses_total{code="4xx",proxy="http_servers",server="h1"}' | grep -qx 1
	pv m 'haproxy_server_sessions_total{proxy="http_servers",server="h1"}' | grep -qx 4
	pv m 'haproxy_frontend_sessions_total{proxy="fe_main"}' | grep -qx 7

	# the server's and backend's rows equal "show stat" (nothing moved in between)
	local row col name
	for row in "http_servers h1 server" "http_servers BACKEND backend" "websocket_servers s1 server"; do
		read -r px sv kind <<<"$row"
		local lbl="proxy=\"$px\""
		[ "$kind" = server ] && lbl="$lbl,server=\"$sv\""
		for col in "5 current_sessions" "8 sessions_total" "9 bytes_in_total" "10 bytes_out_total" \
			"19 weight"; do
			read -r i name <<<"$col"
			a=$(stat_col "$px" "$sv" "$i")
			b=$(pv m "haproxy_${kind}_$name{$lbl}")
			echo "$px/$sv $name: show stat $a, prometheus $b"
			[ "$a" = "$b" ]
		done
		for i in 1 2 3 4 5; do
			a=$(stat_col "$px" "$sv" $((39 + i)))
			b=$(pv m "haproxy_${kind}_http_responses_total{code=\"${i}xx\",$lbl}")
			[ "$a" = "$b" ]
		done
	done
	[ "$(stat_col http_servers BACKEND 11)" = 0 ]
	# the frontend's row counts the scrape itself once it ended: exactly its bytes and its 200
	# (its request was already in the page: open transactions count as they go)
	[ "$(stat_col fe_main FRONTEND 9)" -eq "$(pv m 'haproxy_frontend_bytes_in_total{proxy="fe_main"}')" ]
	[ "$req" -gt 0 ]
	[ "$(stat_col fe_main FRONTEND 10)" -eq $(($(pv m 'haproxy_frontend_bytes_out_total{proxy="fe_main"}') + hdr + body)) ]
	[ "$(stat_col fe_main FRONTEND 41)" -eq 4 ]
	[ "$(stat_col fe_main FRONTEND 11)" -eq 1 ]
	[ "$(stat_col fe_main FRONTEND 8)" -eq 7 ]
	# show info: the scrape saw its own connection, the socket none
	[ "$(pv m haproxy_process_current_connections)" -eq $(($(info CurrConns) + 1)) ]
	[ "$(pv m haproxy_process_connections_total)" = "$(info CumConns)" ]
	[ "$(pv m haproxy_process_max_connections)" = "$(info Maxconn)" ]
	[ "$(pv m haproxy_process_uptime_seconds)" -le "$(info Uptime_sec)" ]
	[ "$(pv m wsplice_splice_enabled)" = 0 ]
}

# tunnel MODE: one tunnel of 8 MiB each way, paced so that it stays in the kernel on the BPF
# path; the counters before and after it, and how they agree with "show info".
tunnel() {
	start_proxy "$1"
	local size=$((8 * MiB)) k0 k1 u0 u1 t
	scrape m0
	bg srv timeout 120 "$STREAM" server "$WS" --timeout 20 --recv "$size" --recv-first \
		--send "$size" --wait-eof --chunk 256K --interval 1
	wait_for_port "$WS"
	run timeout 120 "$STREAM" client "127.0.0.1:$FE" --timeout 20 --send "$size" --recv "$size" \
		--chunk 256K --interval 1
	echo "client: $output"
	[ "$status" -eq 0 ]
	wait "$srv_PID"
	wait_until 5 '[ "$(info CurrTunnels)" -eq 0 ]'
	scrape m1
	stats_cmd "show info" >"$LOGDIR/info"
	cat "$LOGDIR/info"
	k0=$(pv m0 wsplice_kernel_bytes_total)
	k1=$(pv m1 wsplice_kernel_bytes_total)
	u0=$(pv m0 wsplice_user_relay_bytes_total)
	u1=$(pv m1 wsplice_user_relay_bytes_total)
	echo "kernel $k0 -> $k1, relay $u0 -> $u1"
	if [ "$1" = bpf ]; then
		# every tunnel byte, both ways, and nothing else went through the kernel
		[ $((k1 - k0)) -eq $((2 * size)) ]
		[ "$u1" -eq "$u0" ]
		pv m1 wsplice_tunnels_spliced_total | grep -qx 1
		[ "$(pv m1 'wsplice_bpf_stat_total{reason="redirected_bytes"}')" -eq "$k1" ]
		[ "$(pv m1 'wsplice_bpf_stat_total{reason="redirected"}')" -gt 0 ]
		pv m1 wsplice_splice_enabled | grep -qx 1
	else
		[ "$k0" -eq 0 ] && [ "$k1" -eq 0 ]
		[ $((u1 - u0)) -eq $((2 * size)) ]
		pv m1 wsplice_tunnels_spliced_total | grep -qx 0
		[ "$(grep -c '^wsplice_bpf_stat_total{.*} 0$' "$LOGDIR/m1.samples")" -eq 10 ]
	fi
	pv m1 wsplice_tunnels_total | grep -qx 1
	pv m1 wsplice_tunnels_current | grep -qx 0
	# the 101 is a response of the frontend, the backend and the server
	pv m1 'haproxy_server_http_responses_total{code="1xx",proxy="websocket_servers",server="s1"}' | grep -qx 1
	pv m1 'haproxy_frontend_http_responses_total{code="1xx",proxy="fe_main"}' | grep -qx 1
	# the server carried the tunnel bytes, the 101's head aside
	t=$(pv m1 'haproxy_server_bytes_in_total{proxy="websocket_servers",server="s1"}')
	[ "$t" -ge "$size" ] && [ "$t" -le $((size + 1024)) ]
	# the same figures as show info (nothing moves once the tunnel is gone)
	for t in "wsplice_kernel_bytes_total KernelBytes" "wsplice_user_relay_bytes_total UserRelayBytes" \
		"wsplice_tunnels_total CumTunnels" "wsplice_tunnels_spliced_total CumSplicedTunnels" \
		"wsplice_tunnels_demoted_total SpliceDemoted" "wsplice_flow_control_pauses_total FlowPauses" \
		"wsplice_user_held_bytes_total UserHeldBytes" "wsplice_redirect_failures_total RedirectFailures" \
		"wsplice_user_pipe_bytes_total UserPipeBytes" "haproxy_process_max_pipes Maxpipes" \
		"haproxy_process_pipes_used_total PipesUsed" \
		"haproxy_process_busy_polling_enabled BusyPolling"; do
		read -r a b <<<"$t"
		echo "$a $(pv m1 "$a") / $b $(sed -n "s/^$b: //p" "$LOGDIR/info")"
		[ "$(pv m1 "$a")" = "$(sed -n "s/^$b: //p" "$LOGDIR/info")" ]
	done
}

@test "prometheus: a tunnel's bytes, all in wsplice_kernel_bytes_total, agreeing with show info (bpf)" {
	tunnel bpf
}

@test "prometheus: a tunnel's bytes, none in wsplice_kernel_bytes_total, agreeing with show info (userspace)" {
	tunnel user
}

# live MODE: while a tunnel streams, two scrapes a second apart see its bytes move.
live() {
	start_proxy "$1"
	bg srv timeout 60 "$STREAM" server "$WS" --send $((128 * MiB)) --recv $((128 * MiB)) \
		--chunk 64K --interval 10
	wait_for_port "$WS"
	bg cli timeout 60 "$STREAM" client "127.0.0.1:$FE" --send $((128 * MiB)) --recv $((128 * MiB)) \
		--chunk 64K --interval 10
	wait_until 10 '[ "$(info CurrTunnels)" -eq 1 ]'
	scrape a
	sleep 1.5
	scrape b
	local s='{proxy="websocket_servers",server="s1"}' x
	pv a wsplice_tunnels_current | grep -qx 1
	pv b "haproxy_server_current_sessions$s" | grep -qx 1
	for x in "haproxy_server_bytes_in_total$s" "haproxy_server_bytes_out_total$s" \
		'haproxy_backend_bytes_in_total{proxy="websocket_servers"}' \
		'haproxy_frontend_bytes_out_total{proxy="fe_main"}'; do
		echo "$x: $(pv a "$x") -> $(pv b "$x")"
		[ "$(pv b "$x")" -gt "$(pv a "$x")" ]
	done
	if [ "$1" = bpf ]; then
		pv b wsplice_tunnels_spliced | grep -qx 1
		[ "$(pv b wsplice_kernel_bytes_total)" -gt "$(pv a wsplice_kernel_bytes_total)" ]
	else
		pv b wsplice_tunnels_spliced | grep -qx 0
		pv b wsplice_kernel_bytes_total | grep -qx 0
		[ "$(pv b wsplice_user_relay_bytes_total)" -gt "$(pv a wsplice_user_relay_bytes_total)" ]
	fi
}

@test "prometheus: counters move while a tunnel is open (bpf)" {
	live bpf
}

@test "prometheus: counters move while a tunnel is open (userspace)" {
	live user
}

@test "prometheus: a page of many buffers (300 servers), twice on one connection" {
	local i
	{
		printf 'defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n'
		printf '    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:%s\n' "$FE"
		printf '    http-request use-service prometheus-exporter if { path /metrics }\n'
		printf '    default_backend many\nbackend many\n'
		for ((i = 1; i <= 300; i++)); do
			printf '    server srv%d 127.0.0.1:%s\n' "$i" "$HTTP"
		done
	} >"$LOGDIR/many.cfg"
	start_wsplice "$LOGDIR/many.cfg" -dS
	wait_for_port "$FE"
	scrape big
	[ "$(wc -c <"$LOGDIR/big.txt")" -gt $((16 * 16384)) ]
	[ "$(grep -c '^haproxy_server_sessions_total{' "$LOGDIR/big.samples")" -eq 300 ]
	pv big 'haproxy_backend_active_servers{proxy="many"}' | grep -qx 300
	printf 'GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n' >"$LOGDIR/r1"
	run timeout 20 $PY "$PEERS/http_raw.py" "$FE" "$LOGDIR/r1" "$LOGDIR/r1"
	[ "$status" -eq 0 ]
	[ "$(grep -c $'^HTTP/1.1 200 OK\r$' <<<"$output")" -eq 2 ]
	[ "${lines[-1]}" = "## open" ]
}

# bad_cfg NAME LINE MESSAGE: a frontend whose line 4 is LINE is refused with MESSAGE.
bad_cfg() {
	printf 'frontend fe\n    mode http\n    bind 127.0.0.1:%s\n%s\n' "$FE" "$2" >"$LOGDIR/$1.cfg"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/$1.cfg"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"parsing [$LOGDIR/$1.cfg:4] : "*"$3"* ]]
}

@test "prometheus: an unknown or missing service name is a parsing [file:line] error" {
	bad_cfg unknown '    http-request use-service prometheus-exporterx if { path /m }' \
		"'prometheus-exporterx' unknown service name."
	bad_cfg none '    http-request use-service' "'use-service' expects a service name."
	bad_cfg extra '    http-request use-service prometheus-exporter now' "but got 'now'"
	bad_cfg resp '    http-response use-service prometheus-exporter' "but got 'use-service'"
	printf 'frontend fe\n    mode http\n    bind 127.0.0.1:%s\n    http-request use-service prometheus-exporter\n' \
		"$FE" >"$LOGDIR/ok.cfg"
	run timeout 5 "$WSPLICE" -c -f "$LOGDIR/ok.cfg"
	echo "$output"
	[ "$status" -eq 0 ]
}
