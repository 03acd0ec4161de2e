// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness over the configuration parser: the input is a whole configuration file,
 * parsed by the real cfg_parse_file() (from a memfd, so through the same stdio reads as a file
 * on disk) and, when it parses cleanly, checked by cfg_check(); then cfg_free(). A crash, a
 * sanitizer report or a leak (libFuzzer's leak check runs after every input) is a finding, and
 * so is an input whose second parse disagrees with its first: the parser must keep no state
 * between two configurations.
 *
 * Run it with -close_fd_mask=2 (tests/fuzz/run does): the parser's alerts go to stderr, while
 * libFuzzer and the sanitizers keep reporting on a copy of it. Host names in "bind" or "server"
 * are resolved by getaddrinfo(); tests/fuzz/run puts the process in a network namespace of its
 * own so that they fail at once instead of asking a DNS server.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz.cfg", 0);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

/* Parses and checks the file; returns the errors, or -1 when it could not be written. */
static int parse_once(const uint8_t *data, size_t size)
{
	struct config cfg;
	int errors;

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	errors = cfg_parse_file(&cfg, path);
	if (!errors)
		errors = cfg_check(&cfg);
	cfg_free(&cfg);
	return errors;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int a0, a1;
	int first;

	/* Lines are capped at 64 KiB (CFG_MAX_LINE); larger inputs only repeat what that tests. */
	if (size > 256 * 1024)
		return 0;
	a0 = log_alerts;
	first = parse_once(data, size);
	if (first < 0)
		return 0;
	a1 = log_alerts;
	/* the same file again: the same errors and the same number of alerts */
	if (parse_once(data, size) != first || log_alerts - a1 != a1 - a0)
		abort();
	return 0;
}
