#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The libFuzzer harness over the HTTP glue (tests/fuzz/fuzz_http.c) runs for 20 seconds from its
# seed corpus; a crash, a sanitizer report or a broken span invariant fails the test.

setup() {
	load helpers
	common_setup
	command -v clang >/dev/null || skip "clang is not installed"
}

teardown() {
	common_teardown
	dump_logs
}

@test "fuzz: http_parse_head/http_parse_body, checks and rules, 20 s without a finding" {
	timeout 300 make -s -C "$TOP" fuzz >&2
	mkdir -p "$LOGDIR/corpus"
	run timeout 120 "$TOP/.output/fuzz/fuzz_http" -max_total_time=20 -timeout=5 \
		-artifact_prefix="$LOGDIR/" "$LOGDIR/corpus" "$TOP/tests/fuzz/corpus"
	echo "$output" | tail -n 30
	[ "$status" -eq 0 ]
	[[ "$output" == *"Done "*" runs in "* ]]
	refute grep -q 'runtime error' <<<"$output"
}
