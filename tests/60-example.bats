#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The example of docs/example.md end to end, as a person would use it: Debian's Chromium opens the
# chat through wsplice (examples/wsplice.cfg, bound to loopback on free ports) in front of two
# servers of examples/websocket-app that share messages through a private redis-server.
# tests/browser/chat.mjs drives the pages; screenshots go to tests/out/.
#
# The same tests run against HAProxy with WSPLICE=/usr/sbin/haproxy (it takes -d, -p and -f too).

setup() {
	load helpers
	common_setup
	[ -x /usr/bin/chromium ] || skip "Debian's chromium is not installed (/usr/bin/chromium)"
	need_daemon
	APP=$TOP/examples/websocket-app
	BROWSER=$TOP/tests/browser
	local dir
	for dir in "$APP" "$BROWSER"; do
		[ -d "$dir/node_modules" ] || {
			echo "$dir/node_modules is missing: run scripts/install-deps" >&2
			return 1
		}
	done
	mkdir -p "$OUT"
}

teardown() {
	common_teardown
}

# start_app NAME PORT: one chat server; NAME_NODE is the pid of node itself (NAME_PID is that of
# its timeout wrapper), for the test that kills it.
start_app() {
	local name=$1 port=$2 i pid=
	bg "$name" timeout 300 env PORT="$port" SERVER_NAME="$name" LISTEN_HOST=127.0.0.1 \
		REDIS_URL="redis://127.0.0.1:$REDIS_PORT" node "$APP/index.js"
	wait_for_port "$port"
	local wrapper=${name}_PID
	for ((i = 0; i < 100; i++)); do
		pid=$(pgrep -P "${!wrapper}" -x node) && break
		sleep 0.05
	done
	[ -n "$pid" ] || return 1
	printf -v "${name}_NODE" '%s' "$pid"
}

# start_example: redis, s1, s2 and the daemon on a copy of examples/wsplice.cfg that binds
# loopback only; the ports come from the environment variables the file reads.
start_example() {
	REDIS_PORT=$(free_port)
	export WSPLICE_PORT=$(free_port) APP1_PORT=$(free_port) APP2_PORT=$(free_port)
	bg redis timeout 300 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no
	wait_for_port "$REDIS_PORT"
	start_app s1 "$APP1_PORT"
	start_app s2 "$APP2_PORT"

	CFG=$LOGDIR/example.cfg
	sed 's/bind "\*:/bind "127.0.0.1:/' "$TOP/examples/wsplice.cfg" >"$CFG"
	grep -q 'bind "127.0.0.1:${WSPLICE_PORT-8080}"' "$CFG"
	start_wsplice "$CFG"
	wait_for_port "$WSPLICE_PORT"
	# The whole chain answers (the balancer may hold servers down until a first check passes).
	wait_until 15 timeout 5 curl -sf -o /dev/null "http://127.0.0.1:$WSPLICE_PORT/health"
	URL=http://127.0.0.1:$WSPLICE_PORT/ws
}

# tunnels_logged SERVER...: the daemon logged a 101 for an upgrade of /ws/echo to each SERVER
# (HAProxy's httplog shape, which wsplice writes). haproxy -d logs no server name on its
# response lines: there, one 101 per SERVER is what can be checked.
tunnels_logged() {
	local log=$LOGDIR/wsplice.log srv
	if [ "$(basename "$WSPLICE")" = haproxy ]; then
		[ "$(grep -c 'srvrep.*HTTP/1.1 101' "$log")" -ge $# ] && return 0
	else
		for srv in "$@"; do
			grep -Eq " websocket_servers/$srv [-+0-9/]+ 101 .*\"GET /ws/echo HTTP/1.1\"" "$log" ||
				break
		done && return 0
	fi
	echo "no 101 tunnel to each of $* in the daemon's log:" >&2
	cat "$log" >&2
	return 1
}

@test "example: pages on s1 and s2 chat through the balancer in Chromium" {
	start_example
	run timeout 150 node "$BROWSER/chat.mjs" --url "$URL" --screenshot "$OUT/example-chat.png"
	echo "$output"
	[ "$status" -eq 0 ]
	tunnels_logged s1 s2
}

@test "example: a page whose server is killed reconnects to the survivor and chats again" {
	start_example
	run timeout 150 node "$BROWSER/chat.mjs" --url "$URL" --screenshot "$OUT/example-failover.png" \
		--kill "s1=$s1_NODE,s2=$s2_NODE"
	echo "$output"
	[ "$status" -eq 0 ]
	tunnels_logged s1 s2
}
