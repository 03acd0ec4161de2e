// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_unpriv: what of splicing works once root is given up, the measurement behind
 * docs/management.md ("Privileges") and user/privs.c.
 *
 *   bpf_unpriv UID GID
 *
 * As root, creates a sockhash, a hash and a per-CPU array (what bpf/wsplice.bpf.c uses) and a
 * TCP connection on loopback; then setgroups/setgid/setuid to UID/GID with no capability left
 * (no PR_SET_KEEPCAPS), and tries every call the daemon makes at run time on those fds. Prints
 * one line per call, "NAME: ok" or "NAME: <strerror>", then the CapEff line. Exit status: 0 when
 * every call worked, 1 when one failed, 2 when the set-up failed.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static int failed;

static void report(const char *name, int rc)
{
	printf("%s: %s\n", name, rc < 0 ? strerror(errno) : "ok");
	failed |= rc < 0;
}

static void print_capeff(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7) || !strncmp(line, "CapPrm:", 7))
			fputs(line, stdout);
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a), clen;
	unsigned long long cookie, val = 1, percpu[1024];
	unsigned int key0 = 0;
	int sh, hm, pc, ls, c, s, lowat = 4096;

	if (argc != 3)
		return 2;
	sh = bpf_map_create(BPF_MAP_TYPE_SOCKHASH, "unpriv_sh", 8, 4, 64, NULL);
	hm = bpf_map_create(BPF_MAP_TYPE_HASH, "unpriv_h", 8, 8, 64, NULL);
	pc = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "unpriv_pc", 4, 8, 4, NULL);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (sh < 0 || hm < 0 || pc < 0 || ls < 0 || bind(ls, (void *)&a, sizeof(a)) < 0 ||
	    listen(ls, 4) < 0 || getsockname(ls, (void *)&a, &alen) < 0) {
		perror("set-up (as root)");
		return 2;
	}
	if (libbpf_num_possible_cpus() > 1024)
		return 2;
	if (setgroups(0, NULL) < 0 || setgid(atoi(argv[2])) < 0 || setuid(atoi(argv[1])) < 0) {
		perror("dropping root");
		return 2;
	}
	print_capeff();
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (void *)&a, sizeof(a)) < 0 || (s = accept(ls, NULL, NULL)) < 0) {
		perror("loopback connection");
		return 2;
	}
	clen = sizeof(cookie);
	report("getsockopt SO_COOKIE", getsockopt(s, SOL_SOCKET, SO_COOKIE, &cookie, &clen));
	report("setsockopt SO_RCVLOWAT",
	       setsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)));
	report("sockhash update with a socket fd",
	       bpf_map_update_elem(sh, &cookie, &s, BPF_NOEXIST));
	report("sockhash delete", bpf_map_delete_elem(sh, &cookie));
	report("hash update", bpf_map_update_elem(hm, &cookie, &val, BPF_ANY));
	report("hash lookup", bpf_map_lookup_elem(hm, &cookie, &val));
	report("hash delete", bpf_map_delete_elem(hm, &cookie));
	report("per-CPU array lookup", bpf_map_lookup_elem(pc, &key0, percpu));
	return failed;
}
