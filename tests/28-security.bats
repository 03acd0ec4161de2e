#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Security properties: who may use the stats socket and the pinned BPF objects, no header
# injection through http-request header actions or folded client headers, and
# X-Forwarded-For appended to what the client sent, never trusted in its place. Where HAProxy's
# behaviour is the reference, the test runs the installed haproxy 2.6 on the same request and
# compares what the server received.

setup_file() {
	load helpers
}

setup() {
	load helpers
	common_setup
	need_daemon
	FE=$(free_port)
	HT=$(free_port)
	SOCKDIR=
}

teardown() {
	common_teardown
	[ -z "$SOCKDIR" ] || rm -rf "$SOCKDIR"
	[ -z "${SYMLINK:-}" ] || rm -f "$SYMLINK"
	dump_logs
}

# sock_cfg FILE SOCKET [STATS_OPTS] [FRONTEND_LINE]: a minimal proxy with its stats socket at
# SOCKET (the frontend line is line 10 of the file). Written out, not with cfg_head: the socket's
# path and options are what these tests vary, and their error lines count the file's lines.
sock_cfg() {
	write_cfg "$1" <<EOF
global
    stats socket $2 ${3:-}
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$FE
${4:-}
    default_backend be
backend be
    server s1 127.0.0.1:$HT
EOF
}

# Runs a command as uid/gid 65534 without supplementary groups.
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# with_umask MASK CMD...: CMD under umask MASK, in this shell: start_wsplice records the daemon in
# PIDS for teardown, which a subshell would lose (the daemon would outlive its test).
with_umask() {
	local saved rc=0
	saved=$(umask)
	umask "$1"
	shift
	"$@" || rc=$?
	umask "$saved"
	return "$rc"
}

# A directory any user may traverse (the bats tmpdir is root's alone, which would hide the
# socket's own mode from the test).
open_sockdir() {
	SOCKDIR=$(mktemp -d /tmp/wsplice-sec.XXXXXX)
	chmod 0711 "$SOCKDIR"
}

@test "stats socket: 0600 by default whatever the umask; another user cannot connect" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	[ "$(id -u)" = 0 ] || skip "switching to another user needs root"
	open_sockdir
	sock_cfg "$LOGDIR/wsplice.cfg" "$SOCKDIR/stats.sock"
	# umask 000: a mode that came from the umask would be 0777 here
	with_umask 000 start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_until 10 test -S "$SOCKDIR/stats.sock"
	[ "$(stat -c '%a %U' "$SOCKDIR/stats.sock")" = "600 root" ]
	# root is served, nobody is refused by the file mode
	run timeout 5 socat -t 2 - "UNIX-CONNECT:$SOCKDIR/stats.sock" <<<"show info"
	[[ "$output" == *"Name: wsplice"* ]]
	run timeout 5 "${AS_NOBODY[@]}" socat -t 2 - "UNIX-CONNECT:$SOCKDIR/stats.sock" <<<"show info"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" != *"Name: wsplice"* ]]
}

@test "stats socket: 'mode 666' and 'mode 660' are honoured" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	[ "$(id -u)" = 0 ] || skip "switching to another user needs root"
	open_sockdir
	sock_cfg "$LOGDIR/wsplice.cfg" "$SOCKDIR/stats.sock" "mode 666 level user"
	start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_until 10 test -S "$SOCKDIR/stats.sock"
	[ "$(stat -c '%a' "$SOCKDIR/stats.sock")" = 666 ]
	# the mode is what lets another user in: nobody is served now
	run timeout 5 "${AS_NOBODY[@]}" socat -t 2 - "UNIX-CONNECT:$SOCKDIR/stats.sock" <<<"show info"
	[[ "$output" == *"Name: wsplice"* ]]
	stop_wsplice
	sock_cfg "$LOGDIR/wsplice.cfg" "$SOCKDIR/stats.sock" "mode 660"
	with_umask 077 start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_until 10 test -S "$SOCKDIR/stats.sock"
	[ "$(stat -c '%a' "$SOCKDIR/stats.sock")" = 660 ]
}

@test "BPF pins: <pid>/ is 0700, the root 0700 or 01733, no pinned object is readable by others" {
	need_bpf bpf
	sock_cfg "$LOGDIR/wsplice.cfg" "$LOGDIR/stats.sock"
	STATS_SOCK=$LOGDIR/stats.sock
	# A root left listable by others is narrowed. 01733 is the one wider mode kept: a daemon
	# that drops its privileges sets it to remove its own <pid> at exit (main's privs_drop), so
	# other daemons on this machine may set it at any time; both modes hide the entries.
	# umask 000: modes that came from the umask would be wide open here.
	mkdir -p /sys/fs/bpf/wsplice
	chmod 0755 /sys/fs/bpf/wsplice
	with_umask 000 start_wsplice "$LOGDIR/wsplice.cfg"
	wait_for_port "$FE"
	expect_splice_mode bpf
	local dir f n=0 root
	dir=$(pin_dir)
	root=$(stat -c '%a %U' /sys/fs/bpf/wsplice)
	[ "$root" = "700 root" ] || [ "$root" = "1733 root" ]
	[ "$(stat -c '%a %U' "$dir")" = "700 root" ]
	for f in "$dir"/*; do
		n=$((n + 1))
		echo "$(stat -c '%a %U' "$f") $f"
		[ $((8#$(stat -c '%a' "$f") & 8#077)) -eq 0 ]
		[ "$(stat -c '%U' "$f")" = root ]
	done
	# the maps and the verdict program at least
	[ "$n" -ge 3 ]
	[ -e "$dir/wsplice_sock" ]
	[ -e "$dir/wsplice_verdict" ]
}

@test "header actions: CR, LF or a sample in a value, a bad name, are refused at parse time" {
	local v act
	# what the tokenizer makes of these: CR and LF from escapes in quotes, a sample other than
	# exactly %[src] (log-format expressions are not supported, and must not be ignored)
	for v in '"a\r\nX-Injected: 1"' '"a\nX-Injected: 1"' '"a\rb"' '"%[src]\r\n"' \
		'%[req.hdr(host)]' 'a%[src]' '"\x0d\x0aX-Injected: 1"'; do
		for act in set-header add-header; do
			sock_cfg "$LOGDIR/wsplice.cfg" "$LOGDIR/stats.sock" "" "    http-request $act X-A $v"
			run timeout 10 "$WSPLICE" -c -f "$LOGDIR/wsplice.cfg"
			echo "$act $v: $output"
			[ "$status" -eq 1 ]
			[[ "$output" == *"parsing [$LOGDIR/wsplice.cfg:10] : "* ]]
			[[ "$output" != *"Configuration file is valid"* ]]
		done
	done
	sock_cfg "$LOGDIR/wsplice.cfg" "$LOGDIR/stats.sock" "" '    http-request add-header "X-A: b\r\nX-C" v'
	run timeout 10 "$WSPLICE" -c -f "$LOGDIR/wsplice.cfg"
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid character ':' in header name"* ]]
}

# through PORT NAME REQUEST_PRINTF: sends the request to PORT, the server's view of it (its
# head, as bad_server.py recorded it) in $LOGDIR/NAME.head, header names lower-cased (HAProxy
# lower-cases them, wsplice keeps them: the order and the values are what is compared).
through() {
	local port=$1 name=$2 rec=$LOGDIR/rec-$1
	printf "$3" >"$LOGDIR/$name.req"
	run timeout 20 $PY "$PEERS/http_raw.py" "$port" "$LOGDIR/$name.req"
	[[ "$output" == "HTTP/1.1 200 "* ]] || {
		echo "$output"
		return 1
	}
	local last
	last=$(ls "$rec" | sed -n 's/\.head$//p' | sort -n | tail -n1)
	sed -E 's/^([^:]*):/\L\1:/' "$rec/$last.head" | tr -d '\r' | grep -v '^connection: ' >"$LOGDIR/$name.head"
	cat "$LOGDIR/$name.head"
}

# start_pair FRONTEND_EXTRA: wsplice on $FE and, when installed, haproxy 2.6 on $HP with the
# same frontend, each before its own recording server.
start_pair() {
	local w=$(free_port) h=$(free_port) p
	HP=$(free_port)
	bg srvw timeout 120 $PY "$PEERS/bad_server.py" "$w" cl --record "$LOGDIR/rec-$FE" --size 4
	bg srvh timeout 120 $PY "$PEERS/bad_server.py" "$h" cl --record "$LOGDIR/rec-$HP" --size 4
	wait_for_log "$LOGDIR/srvw.log" '^listening'
	wait_for_log "$LOGDIR/srvh.log" '^listening'
	for p in "$FE:$w:wsplice" "$HP:$h:haproxy"; do
		IFS=: read -r fp sp which <<<"$p"
		# one text for both daemons, side by side (not cfg_head: both would bind its stats socket)
		write_cfg "$LOGDIR/$which.cfg" <<EOF
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$fp
$1
    default_backend be
backend be
    server s1 127.0.0.1:$sp
EOF
	done
	start_wsplice "$LOGDIR/wsplice.cfg" -dS
	wait_for_port "$FE"
	HAPROXY=
	if command -v haproxy >/dev/null && haproxy -v | grep -q 'version 2\.6\.'; then
		bg haproxy timeout 120 haproxy -db -f "$LOGDIR/haproxy.cfg"
		wait_for_port "$HP"
		HAPROXY=1
	fi
}

@test "option forwardfor: the client's X-Forwarded-For is kept and ours appended, as HAProxy does" {
	start_pair '    option forwardfor'
	local req='GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7, 8.8.8.8\r\n\r\n'
	through "$FE" ws "$req"
	# the client's values first, untouched, then the address the connection came from
	[ "$(grep '^x-forwarded-for:' "$LOGDIR/ws.head" | paste -sd'|')" = \
		"x-forwarded-for: 6.6.6.6|x-forwarded-for: 7.7.7.7, 8.8.8.8|x-forwarded-for: 127.0.0.1" ]
	if [ -n "$HAPROXY" ]; then
		through "$HP" hap "$req"
		diff -u "$LOGDIR/hap.head" "$LOGDIR/ws.head"
	fi
}

@test "option forwardfor if-none: a client's X-Forwarded-For passes alone, none gets ours" {
	start_pair '    option forwardfor if-none'
	through "$FE" ws1 'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n'
	[ "$(grep '^x-forwarded-for:' "$LOGDIR/ws1.head" | paste -sd'|')" = "x-forwarded-for: 6.6.6.6" ]
	through "$FE" ws2 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
	[ "$(grep '^x-forwarded-for:' "$LOGDIR/ws2.head" | paste -sd'|')" = "x-forwarded-for: 127.0.0.1" ]
	if [ -n "$HAPROXY" ]; then
		through "$HP" hap1 'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n'
		diff -u "$LOGDIR/hap1.head" "$LOGDIR/ws1.head"
		through "$HP" hap2 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
		diff -u "$LOGDIR/hap2.head" "$LOGDIR/ws2.head"
	fi
}

@test "a folded client header reaches the server unfolded, as HAProxy sends it" {
	start_pair '    http-request set-header X-Src %[src]'
	local req='GET / HTTP/1.1\r\nHost: a\r\nX-Foo: a\r\n b\r\nX-Src: forged\r\nX-Bar: c\r\n\tX-Injected: 1\r\n\r\n'
	through "$FE" ws "$req"
	# one line per header: the fold became spaces, nothing starts a line of its own
	refute grep -q '^x-injected' "$LOGDIR/ws.head"
	grep -qx 'x-foo: a   b' "$LOGDIR/ws.head"
	grep -qx $'x-bar: c  \tX-Injected: 1' "$LOGDIR/ws.head"
	# set-header replaced the client's forged X-Src with the real address
	[ "$(grep '^x-src:' "$LOGDIR/ws.head" | paste -sd'|')" = "x-src: 127.0.0.1" ]
	if [ -n "$HAPROXY" ]; then
		through "$HP" hap "$req"
		diff -u "$LOGDIR/hap.head" "$LOGDIR/ws.head"
	fi
}

@test "BPF pins: a <pid> directory planted by another user is not used" {
	need_bpf bpf
	sock_cfg "$LOGDIR/wsplice.cfg" "$LOGDIR/stats.sock"
	STATS_SOCK=$LOGDIR/stats.sock
	mkdir -p /sys/fs/bpf/wsplice
	# exec keeps the pid: the directory is planted, owned by nobody, under the daemon's pid
	bg wsplice bash -c 'd=/sys/fs/bpf/wsplice/$$; mkdir "$d" && chown 65534:65534 "$d" &&
		exec "$0" -d -p "$1" -f "$2"' "$WSPLICE" "$LOGDIR/wsplice.pid" "$LOGDIR/wsplice.cfg"
	DAEMON_PID=$wsplice_PID
	wait_for_port "$FE"
	# nothing was pinned there (the directory is removed as a failed pinning's would be); the
	# tunnels go by the userspace path instead, and the log says why
	wait_for_log "$LOGDIR/wsplice.log" "cannot pin under /sys/fs/bpf/wsplice/$DAEMON_PID: Operation not permitted"
	expect_splice_mode user
	[ ! -e "/sys/fs/bpf/wsplice/$DAEMON_PID" ] || [ -z "$(ls -A "/sys/fs/bpf/wsplice/$DAEMON_PID")" ]
	stop_wsplice
}

@test "BPF pins: a '<dead pid>' symlink in the root is never followed by the stale-pin cleanup" {
	need_bpf bpf
	sock_cfg "$LOGDIR/wsplice.cfg" "$LOGDIR/stats.sock"
	STATS_SOCK=$LOGDIR/stats.sock
	mkdir -p /sys/fs/bpf/wsplice "$LOGDIR/victim"
	echo keep >"$LOGDIR/victim/file"
	# a pid that has just exited: the cleanup takes its entry for a dead instance's pins
	local dead
	dead=$(sh -c 'echo $$')
	SYMLINK=/sys/fs/bpf/wsplice/$dead
	ln -s "$LOGDIR/victim" "$SYMLINK"
	start_wsplice "$LOGDIR/wsplice.cfg"
	wait_for_port "$FE"
	expect_splice_mode bpf
	wait_for_log "$LOGDIR/wsplice.log" "removing BPF objects pinned by dead instance $dead"
	# root unlinked nothing through the link
	[ "$(cat "$LOGDIR/victim/file")" = keep ]
	rm -f "$SYMLINK"
}
