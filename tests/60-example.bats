#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The example of docs/example.md end to end, as a person would use it: Debian's Chromium opens the
# chat through wsplice (examples/wsplice.cfg, bound to loopback on free ports) in front of two
# servers of examples/websocket-app that share messages through a private redis-server.
# tests/browser/chat.mjs drives the pages; screenshots go to tests/out/. The chat runs on both
# data paths (BPF splice and the userspace relay); the failover test on the BPF one.

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

# start_example MODE: redis, s1, s2 and the daemon on the data path MODE (bpf or user), on a copy
# of examples/wsplice.cfg that binds loopback only; the ports come from the environment variables
# the file reads.
start_example() {
	local mode=$1
	REDIS_PORT=$(free_port)
	export WSPLICE_PORT=$(free_port) APP1_PORT=$(free_port) APP2_PORT=$(free_port)
	bg redis timeout 300 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no
	wait_for_port "$REDIS_PORT"
	start_app s1 "$APP1_PORT"
	start_app s2 "$APP2_PORT"

	CFG=$LOGDIR/example.cfg
	# loopback only, and a stats socket for the counters
	STATS_SOCK=$LOGDIR/wsplice.sock
	sed -e 's/bind "\*:/bind "127.0.0.1:/' \
		-e "s|^global\$|global\n    stats socket $STATS_SOCK mode 600 level admin|" \
		"$TOP/examples/wsplice.cfg" >"$CFG"
	grep -q "stats socket $STATS_SOCK" "$CFG"
	grep -q 'bind "127.0.0.1:${WSPLICE_PORT-8080}"' "$CFG"
	start_wsplice "$CFG" $(path_args "$mode")
	wait_for_port "$WSPLICE_PORT"
	# The data path asked for, not a silent fallback to the other one.
	local want="the kernel"
	[ "$mode" = user ] && want="user space"
	wait_for_log "$LOGDIR/wsplice.log" "started: .* tunnels forwarded by $want"
	# The whole chain answers (the balancer may hold servers down until a first check passes).
	wait_until 15 timeout 5 curl -sf -o /dev/null "http://127.0.0.1:$WSPLICE_PORT/health"
	URL=http://127.0.0.1:$WSPLICE_PORT/ws
}

# tunnels_logged SERVER...: the daemon logged a 101 for an upgrade of /ws/echo to each SERVER, in
# HAProxy's httplog shape: "fe_main websocket_servers/s1 0/0/0/1/+1 101 ... "GET /ws/echo HTTP/1.1"".
tunnels_logged() {
	local srv
	for srv in "$@"; do
		grep -Eq " websocket_servers/$srv [-+0-9/]+ 101 .*\"GET /ws/echo HTTP/1.1\"" \
			"$LOGDIR/wsplice.log" && continue
		echo "no 101 tunnel to $srv in the daemon's log:" >&2
		cat "$LOGDIR/wsplice.log" >&2
		return 1
	done
}

# chat MODE: two pages on s1 and s2 see each other's messages, tunnels on data path MODE.
chat() {
	need_bpf "$1"
	start_example "$1"
	run timeout 150 node "$BROWSER/chat.mjs" --url "$URL" --screenshot "$OUT/example-chat-$1.png"
	echo "$output"
	[ "$status" -eq 0 ]
	tunnels_logged s1 s2
	# the two tunnels' bytes went the way asked for: the kernel's counters, or the relay's
	[ "$(info CumTunnels)" -ge 2 ]
	if [ "$1" = bpf ]; then
		[ "$(info KernelBytes)" -gt 0 ]
		# only what the servers sent in the same read as their 101 ("Server: sN" frames)
		[ "$(info UserRelayBytes)" -le 4096 ]
	else
		[ "$(info UserRelayBytes)" -gt 0 ]
		[ "$(info KernelBytes)" -eq 0 ]
	fi
}

@test "example: pages on s1 and s2 chat in Chromium (BPF splice)" {
	chat bpf
}

@test "example: pages on s1 and s2 chat in Chromium (userspace relay)" {
	chat user
}

@test "example: a page whose server is killed reconnects to the survivor and chats again" {
	need_bpf bpf
	start_example bpf
	run timeout 150 node "$BROWSER/chat.mjs" --url "$URL" --screenshot "$OUT/example-failover.png" \
		--kill "s1=$s1_NODE,s2=$s2_NODE"
	echo "$output"
	[ "$status" -eq 0 ]
	tunnels_logged s1 s2
	# the health checks saw it, and the killed server's tunnel was logged at its 101 (logasap: a
	# "+" before the total time; as in HAProxy, no second line at close)
	wait_for_log "$LOGDIR/wsplice.log" "Server websocket_servers/s[12] is DOWN"
	grep "is DOWN" "$LOGDIR/wsplice.log"
	local dead
	dead=$(sed -n 's/.*Server websocket_servers\/\(s[12]\) is DOWN.*/\1/p' "$LOGDIR/wsplice.log" | head -n1)
	grep -Eq " websocket_servers/$dead [0-9]+/[0-9]+/[0-9]+/[0-9]+/\+[0-9]+ 101 " "$LOGDIR/wsplice.log"
}
