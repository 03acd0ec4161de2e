# SPDX-License-Identifier: GPL-2.0
# Shared by every tests/*.bats file: loaded from setup(). Functions here start real processes on
# ephemeral loopback ports, remember their pids and stop them in teardown.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
WSPLICE=${WSPLICE:-$TOP/wsplice}
# Debian's python3 has python3-websockets; a python3 earlier on PATH (pyenv) may not.
PY=/usr/bin/python3
PEERS=$TOP/tests/peers
PIDS=()

common_setup() {
	PIDS=()
	LOGDIR=$BATS_TEST_TMPDIR
}

# Kills every process started with bg, then checks the daemon did not crash (a core or a
# sanitizer report would have been printed in its log).
common_teardown() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
	PIDS=()
}

# bg NAME CMD...: runs CMD in the background with output in $LOGDIR/NAME.log, records its pid
# in PIDS and in the variable NAME_PID.
bg() {
	local name=$1
	shift
	"$@" >"$LOGDIR/$name.log" 2>&1 3>&- &
	local pid=$!
	PIDS+=("$pid")
	printf -v "${name}_PID" '%s' "$pid"
}

# A free TCP port on 127.0.0.1, as the kernel picks it.
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_for_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "nothing listens on port $port after ${secs}s" >&2
	return 1
}

# wait_for_log FILE REGEX [SECONDS]: until a line of FILE matches REGEX.
wait_for_log() {
	local file=$1 re=$2 secs=${3:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line matching '$re' in $file after ${secs}s:" >&2
	cat "$file" >&2
	return 1
}

# write_cfg FILE: writes standard input to FILE, for heredoc configs.
write_cfg() {
	cat >"$1"
}

# start_wsplice CFG [ARGS...]: runs wsplice -d in the background (log in $LOGDIR/wsplice.log).
start_wsplice() {
	local cfg=$1
	shift
	bg wsplice timeout 600 "$WSPLICE" -d -f "$cfg" "$@"
}
