#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# "wsplice -c -f FILE": the configuration parser through the real daemon. Valid files print
# "Configuration file is valid" and exit 0; every class of error prints HAProxy's
# "parsing [FILE:LINE] : ..." (or its post-parse wording) and exits 1 with
# "Fatal errors found in configuration.". Nothing listens: -c only reads files.

setup() {
	load helpers
	common_setup
	need_daemon
	CFG=$LOGDIR/wsplice.cfg
	SEED=$TOP/../shared/seed/haproxy-enterprise-websockets.txt
}

teardown() {
	common_teardown
}

# check_cfg [FILES...]: runs wsplice -c on the files (default $CFG), output in $output.
check_cfg() {
	local args=() f
	for f in "${@:-$CFG}"; do
		args+=(-f "$f")
	done
	run timeout 10 "$WSPLICE" -c "${args[@]}"
	echo "$output" >&2
}

# expect_valid [FILES...]
expect_valid() {
	check_cfg "$@"
	[ "$status" -eq 0 ]
	[[ $output == *"Configuration file is valid"* ]]
	[[ $output != *"[ALERT]"* ]]
}

# expect_error LINE TEXT: $CFG is refused, the error names $CFG:LINE and contains TEXT.
expect_error() {
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"parsing [$CFG:$1] : "* ]] || [[ $output == *"parsing [$CFG:$1]: "* ]]
	[[ $output == *"$2"* ]]
	[[ $output == *"Fatal errors found in configuration."* ]]
	[[ $output != *"Configuration file is valid"* ]]
}

# The timeouts HAProxy wants, so that valid files print no warning.
timeouts() {
	printf 'defaults\n\ttimeout client 30s\n\ttimeout server 30s\n\ttimeout connect 5s\n'
}

@test "config: every supported keyword is accepted" {
	{
		cat <<-EOF
			# every keyword wsplice supports
			global
			    maxconn 4096
			    nosplice
			    busy-polling
			    no busy-polling
			    spread-checks 10
			    log stdout format raw local0 info
			    log 127.0.0.1:5514 len 2048 format rfc3164 local1 info err
			    log /dev/log format rfc5424 daemon
			    log stderr format short local7
			    stats socket $LOGDIR/stats.sock mode 660 level admin

			defaults
			    mode http
			    log global
			    maxconn 1000
			    option http-server-close
			    no option http-server-close
			    option logasap
			    option httplog
			    option httplog clf
			    option tcplog
			    option dontlognull
			    option tcp-smart-accept
			    no option tcp-smart-accept
			    option tcp-smart-connect
			    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %U %tsc %{+Q}r"
			    balance roundrobin
			    timeout connect 5s
			    timeout client 30s
			    timeout server 30s
			    timeout tunnel 1h
			    timeout http-request 10s
			    timeout http-keep-alive 2s
			    timeout client-fin 1s
			    timeout server-fin 1s
			    default_backend be_http

			frontend fe_main
			    bind :$(free_port),127.0.0.1:$(free_port)
			    bind [::1]:$(free_port)
			    bind :::$(free_port)
			    bind *:$(free_port)
			    bind fd@3
			    maxconn 500
			    acl is_ws path_beg /ws
			    acl is_ws path_end .ws
			    acl up hdr(upgrade) -i websocket
			    acl conn hdr_sub(connection) -i upgrade
			    acl host_ok hdr_beg(host) chat. hdr_end(host) .example.com
			    acl get method GET
			    acl lan src 10.0.0.0/8 192.168.0.1 2001:db8::/32 ::1
			    acl exact path /ws/echo
			    acl sub path_sub chat
			    acl h_exact hdr(x-env) prod
			    acl h_end hdr_end(host) .example.com
			    use_backend be_ws if is_ws up conn get or { path_beg -i /socket } !lan
			    use_backend be_ws if exact || sub h_exact h_end host_ok
			    use_backend be_http unless get
			    use_backend be_tcp_li if { src 127.0.0.1 }
			    default_backend be_http

			backend be_ws
			    option http-server-close
			    timeout tunnel 1h
			    server s1 127.0.0.1:$(free_port) check
			    server s2 127.0.0.1:$(free_port) check weight 256 inter 500ms rise 1 fall 1
			    server s3 [::1]:$(free_port) disabled weight 0
			    server s4 localhost:$(free_port) inter 2s

			backend be_http
			    balance roundrobin
			    option httpclose
			    option http-keep-alive
			    option redispatch
			    option redispatch 1
			    retries 2
			    http-reuse always
			    cookie SRV insert indirect nocache httponly secure
			    server h1 127.0.0.1:$(free_port) send-proxy cookie h1
			    server h2 127.0.0.1:$(free_port) send-proxy-v2 cookie h2

			backend be_balance
			    balance hdr(host) use_domain_only
			    hash-type consistent sdbm avalanche
			    option allbackups
			    option httpchk GET /health HTTP/1.1
			    option log-health-checks
			    http-check send hdr Host example.com
			    http-check expect rstatus ^(2|3)
			    timeout check 2s
			    default-server inter 1s fastinter 200ms downinter 5s maxconn 100
			    server b1 127.0.0.1:$(free_port) check port $(free_port) on-marked-down shutdown-sessions
			    server b2 127.0.0.1:$(free_port) check addr 127.0.0.1 weight 3
			    server b3 127.0.0.1:$(free_port) check backup maxconn 10

			backend be_first
			    balance first
			    server f1 127.0.0.1:$(free_port) maxconn 2

			backend be_others
			    balance uri whole len 64 depth 3
			    balance static-rr
			    balance leastconn
			    balance source
			    balance random(3)
			    hash-type map-based
			    server o1 127.0.0.1:$(free_port)

			listen be_tcp_li
			    bind 127.0.0.1:$(free_port)
			    timeout client 5s
			    server t1 127.0.0.1:$(free_port)
		EOF
	} >"$CFG"
	expect_valid
	[[ $output != *"[WARNING]"* ]]
}

@test "config: the seed's WebSocket configurations pass -c" {
	[ -f "$SEED" ] || skip "seed document not found at $SEED"
	# Step 4 of the seed, verbatim but for a free port and the server address it leaves out.
	sed -n '/routes traffic to port 3000/,/server s1 check/p' "$SEED" | sed 1d >"$LOGDIR/seed4"
	grep -q '^    frontend fe_main$' "$LOGDIR/seed4"
	grep -q '^       option logasap$' "$LOGDIR/seed4"
	sed -e "s/bind :80\$/bind :$(free_port)/" \
		-e "s/server s1 check\$/server s1 127.0.0.1:$(free_port) check/" "$LOGDIR/seed4" >"$CFG"
	expect_valid
	# the seed sets no client/connect/server timeouts: HAProxy's warning, not an error
	[[ $output == *"missing timeouts for frontend 'fe_main'"* ]]
	# and "option logasap" in a backend is ignored with HAProxy's warning
	[[ $output == *"'logasap' ignored because backend 'websocket_servers' has no frontend capability."* ]]

	# Steps 1 and 2: the same, plus the http_servers backend the seed's frontend refers to.
	awk '/^    backend websocket_servers$/ && !b { b = 1 }
	     /^    frontend fe_main$/ && !f { f = 1 }
	     b == 1 || f == 1 { print }
	     /^       server s2 check$/ && b == 1 { b = 2 }
	     /^       default_backend http_servers$/ && f == 1 { f = 2 }' "$SEED" >"$LOGDIR/seed12"
	[ "$(wc -l <"$LOGDIR/seed12")" -eq 9 ]
	grep -q 'use_backend websocket_servers if { path_beg /ws }' "$LOGDIR/seed12"
	{
		sed -e "s/bind :80\$/bind :$(free_port)/" \
			-e "s/server s\([12]\) check\$/server s\1 127.0.0.1:$(free_port) check/" \
			"$LOGDIR/seed12"
		printf 'backend http_servers\n    server h1 127.0.0.1:%s\n' "$(free_port)"
	} >"$CFG"
	expect_valid
}

@test "config: an unknown keyword is named, with its file and line" {
	printf 'global\n    maxconn 100\n\n    tune.bufsize 16384\n' >"$CFG"
	expect_error 4 "unknown keyword 'tune.bufsize' in 'global' section"
	printf 'frontend fe\n    bind :1\n    option http-use-proxy-header\n' >"$CFG"
	expect_error 3 "unknown option 'http-use-proxy-header'"
	printf 'frontend fe\n    bind :1\n    http-after-response set-header a b\n' >"$CFG"
	expect_error 3 "unknown keyword 'http-after-response' in 'frontend' section"
	printf 'maxconn 5\n' >"$CFG"
	expect_error 1 "unknown keyword 'maxconn' out of section"
}

@test "config: a keyword in the wrong section" {
	printf 'frontend fe\n    bind :1\n    server s 127.0.0.1:1\n' >"$CFG"
	expect_error 3 "'server' not allowed because frontend 'fe' has no backend capability."
	printf 'defaults\n    use_backend x\n' >"$CFG"
	expect_error 2 "'use_backend' not allowed in 'defaults' section."
	printf 'global\n    mode http\n' >"$CFG"
	expect_error 2 "unknown keyword 'mode' in 'global' section"
	printf '%s\nbackend be\n    bind :80\n' "$(timeouts)" >"$CFG"
	expect_valid
	[[ $output == *"'bind' ignored because backend 'be' has no frontend capability."* ]]
	printf '%s\nbackend be\n    timeout client 5s\n' "$(timeouts)" >"$CFG"
	expect_valid
	[[ $output == *"'timeout client' will be ignored because backend 'be' has no frontend capability"* ]]
}

@test "config: bad values: times, numbers, addresses, server options" {
	printf 'backend be\n    timeout connect 10x\n' >"$CFG"
	expect_error 2 "unexpected character 'x' in 'timeout connect'"
	printf 'backend be\n    timeout tunnel 30d\n' >"$CFG"
	expect_error 2 "timer overflow in argument '30d' to 'timeout tunnel'"
	printf 'backend be\n    timeout tarpit 1s\n' >"$CFG"
	expect_error 2 "'timeout tarpit' is not supported yet"
	printf 'global\n    maxconn many\n' >"$CFG"
	expect_error 2 "'maxconn' expects an integer argument."
	printf 'defaults\n    option splice-request\n' >"$CFG"
	expect_error 2 "'option splice-request' is not supported yet."
	printf 'global\n    maxpipes -1\n' >"$CFG"
	expect_error 2 "'maxpipes' expects an integer argument."
	printf 'global\n    busy-polling on\n' >"$CFG"
	expect_error 2 "'busy-polling' cannot handle unexpected argument 'on'."
	printf 'frontend fe\n    bind 127.0.0.1\n' >"$CFG"
	expect_error 2 "missing port specification in '127.0.0.1'"
	printf 'frontend fe\n    bind :443 ssl crt /x.pem\n' >"$CFG"
	expect_error 2 "unknown keyword 'ssl'"
	printf 'backend be\n    server s1 127.0.0.1:80 check backupp\n' >"$CFG"
	expect_error 2 "'server be/s1' : unknown keyword 'backupp'."
	printf 'backend be\n    server s1 127.0.0.1:80 slowstart 10s\n' >"$CFG"
	expect_error 2 "'server be/s1' : 'slowstart' is not supported yet."
	printf 'backend be\n    server s1 127.0.0.1:80 maxconn some\n' >"$CFG"
	expect_error 2 "'server be/s1' : 'maxconn' expects an integer argument."
	printf 'backend be\n    server s1 127.0.0.1:80 weight 300\n' >"$CFG"
	expect_error 2 "weight of server s1 is not within 0 and 256 (300)."
	printf 'backend be\n    server a/b 127.0.0.1:80\n' >"$CFG"
	expect_error 2 "character '/' is not permitted in server name 'a/b'."
	printf 'backend be\n    server s1 127.0.0.1:99999\n' >"$CFG"
	expect_error 2 "invalid port '99999'"
	printf 'backend be\n    balance url_param id\n' >"$CFG"
	expect_error 2 "balance 'url_param' is not supported yet"
	printf 'backend be\n    balance uri depth -1\n' >"$CFG"
	expect_error 2 "balance uri : 'depth' expects a positive integer (got '-1')."
	printf 'backend be\n    hash-type ring\n' >"$CFG"
	expect_error 2 "'hash-type' only supports 'consistent' and 'map-based'."
	printf 'backend be\n    http-check expect rstring (\n' >"$CFG"
	expect_error 2 "'http-check expect' : regex '(' is invalid"
	printf 'global\n    spread-checks 51\n' >"$CFG"
	expect_error 2 "'spread-checks' needs a positive value in range 0..50."
	printf 'global\n    log ring@buf local0\n' >"$CFG"
	expect_error 2 "log : address 'ring@buf' is not supported"
	printf 'backend be\n    mode health\n' >"$CFG"
	expect_error 2 "unknown proxy mode 'health'."
}

@test "config: quoting errors and ACL errors" {
	printf 'global\n    stats socket "/tmp/x\n' >"$CFG"
	expect_error 2 "unmatched quote at position 18"
	printf 'global\n    stats socket "${X:-y}"\n' >"$CFG"
	expect_error 2 "unmatched brace in environment variable name"
	printf 'frontend fe\n    acl a pathbeg /ws\n' >"$CFG"
	expect_error 2 "unknown fetch method 'pathbeg'"
	printf 'frontend fe\n    acl a path_beg /ws\n    use_backend be if a b\n' >"$CFG"
	expect_error 3 "no such ACL : 'b'"
	printf 'frontend fe\n    use_backend be if { path_beg /ws\n' >"$CFG"
	expect_error 2 "missing closing '}' in condition."
	printf 'frontend fe\n    acl a src 10.0.0.0/40\n' >"$CFG"
	expect_error 2 "'10.0.0.0/40' is not a valid IPv4 or IPv6 address."
}

@test "config: several errors are all reported in one run" {
	printf 'global\n    foo\nfrontend fe\n    bar\nbackend be\n    baz 1\n' >"$CFG"
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"parsing [$CFG:2] : unknown keyword 'foo'"* ]]
	[[ $output == *"parsing [$CFG:4] : unknown keyword 'bar'"* ]]
	[[ $output == *"parsing [$CFG:6] : unknown keyword 'baz'"* ]]
}

@test "config: post-parse checks: unknown backend, duplicates, modes" {
	printf '%s\nfrontend fe\n    bind :1\n    use_backend nope\n' "$(timeouts)" >"$CFG"
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"Proxy 'fe': unable to find required use_backend: 'nope'."* ]]

	printf '%s\nfrontend fe\n    bind :1\n    default_backend fe2\nfrontend fe2\n    bind :2\n' \
		"$(timeouts)" >"$CFG"
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"Proxy 'fe': unable to find required default_backend: 'fe2'."* ]]

	printf '%s\nbackend be\n    server s1 127.0.0.1:1\n    server s1 127.0.0.1:2\n' \
		"$(timeouts)" >"$CFG"
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"parsing [$CFG:7] : backend 'be', another server named 's1' was already defined at line 6"* ]]

	printf 'backend be\nlisten be\n    bind :1\n' >"$CFG"
	expect_error 2 "listen 'be' has the same name as backend 'be' declared at $CFG:1."

	printf '%s\nfrontend fe\n    bind :1\n    default_backend be\nbackend be\n    mode tcp\n' \
		"$(timeouts)" >"$CFG"
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"http frontend 'fe' ($CFG:5) tries to use incompatible tcp backend 'be' ($CFG:8) as its default backend (see 'mode')."* ]]

	printf '%s\nfrontend fe\n    mode tcp\n    bind :1\n    default_backend be\nbackend be\n' \
		"$(timeouts)" >"$CFG"
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"tcp frontend 'fe'"*"http backend 'be'"* ]]
}

@test "config: HAProxy's warnings: missing timeouts, frontend without bind" {
	printf 'frontend fe\n    bind 127.0.0.1:%s\n' "$(free_port)" >"$CFG"
	expect_valid
	[[ $output == *"[WARNING]"*"missing timeouts for frontend 'fe'."* ]]
	[[ $output == *"While not properly invalid, you will certainly encounter various problems"* ]]
	[[ $output == *"timeouts are set to a non-zero value: 'client', 'connect', 'server'."* ]]

	printf '%s\nfrontend fe\n' "$(timeouts)" >"$CFG"
	expect_valid
	[[ $output == *"frontend 'fe' has no 'bind' directive. Please declare it as a backend if this was intended."* ]]
}

@test "config: several -f files share defaults and keep their own names in messages" {
	timeouts >"$LOGDIR/a.cfg"
	printf '    mode tcp\n' >>"$LOGDIR/a.cfg"
	printf 'frontend fe\n    bind :%s\n    default_backend be\n' "$(free_port)" >"$LOGDIR/b.cfg"
	printf 'backend be\n    server s 127.0.0.1:%s\n' "$(free_port)" >"$LOGDIR/c.cfg"
	expect_valid "$LOGDIR/a.cfg" "$LOGDIR/b.cfg" "$LOGDIR/c.cfg"

	printf 'backend be\n    server s 127.0.0.1:1 bogus\n' >"$LOGDIR/c.cfg"
	check_cfg "$LOGDIR/a.cfg" "$LOGDIR/b.cfg" "$LOGDIR/c.cfg"
	[ "$status" -eq 1 ]
	[[ $output == *"parsing [$LOGDIR/c.cfg:2] : 'server be/s' : unknown keyword 'bogus'."* ]]
}

@test "config: a missing file" {
	check_cfg "$LOGDIR/nope.cfg"
	[ "$status" -eq 1 ]
	[[ $output == *"Cannot open configuration file/directory $LOGDIR/nope.cfg : No such file or directory"* ]]
}

@test "config: environment variables in double quotes, not in single quotes" {
	local port
	port=$(free_port)
	printf '%s\nfrontend fe\n    bind "127.0.0.1:${WS_TEST_PORT}"\n' "$(timeouts)" >"$CFG"
	printf '    bind "127.0.0.1:${WS_TEST_UNSET-%s}"\n' "$(free_port)" >>"$CFG"
	printf '    acl a hdr(x-env) "${WS_TEST_ENV}" '"'"'${literal}'"'"'\n' >>"$CFG"
	printf '    use_backend be if a\nbackend be\n    server s "${WS_TEST_HOST}:%s"\n' \
		"$(free_port)" >>"$CFG"
	WS_TEST_PORT=$port WS_TEST_ENV=prod WS_TEST_HOST=127.0.0.1 expect_valid

	# unset: the address becomes "127.0.0.1:", which is refused on its line
	check_cfg
	[ "$status" -eq 1 ]
	[[ $output == *"parsing [$CFG:6] : 'bind' : invalid port ''"* ]]
}

@test "config: comments, quotes and escapes" {
	cat >"$CFG" <<-'EOF'
		# a comment
		global   # trailing comment
		    maxconn 10#comment glued to a word
		    stats socket "/tmp/with space.sock" level 'admin'
		defaults
		    timeout client 1s
		    timeout server 1s
		    timeout connect 1s
		frontend fe
		    bind :1
		    acl a hdr(x) a\ b "c\"d" e\#f 'g"h'
		    use_backend be if a
		backend be
	EOF
	expect_valid
}
