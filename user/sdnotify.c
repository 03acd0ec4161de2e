// SPDX-License-Identifier: GPL-2.0
#include "sdnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

/* The connected socket, kept for the life of the process (file-scope: only this module uses
 * it, and a process has one service manager). */
static int notify_fd = -1;
/* -D: the pipe the waiting parent reads, until sdnotify_started() */
static int started_fd = -1;

int sdnotify_open(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	socklen_t len;
	int err;

	if (!name || !*name || notify_fd >= 0)
		return 0;
	if ((name[0] != '/' && name[0] != '@') || strlen(name) >= sizeof(sun.sun_path)) {
		pr_warn("NOTIFY_SOCKET '%s' is neither a path nor an abstract name: ignored", name);
		return -EINVAL;
	}
	memcpy(sun.sun_path, name, strlen(name));
	len = offsetof(struct sockaddr_un, sun_path) + strlen(name);
	if (name[0] == '@')
		sun.sun_path[0] = 0; /* abstract namespace: no trailing NUL counted */
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0 || connect(notify_fd, (struct sockaddr *)&sun, len) < 0) {
		err = -errno;
		pr_warn("NOTIFY_SOCKET '%s': %s", name, strerror(-err));
		if (notify_fd >= 0)
			close(notify_fd);
		notify_fd = -1;
		return err;
	}
	return 0;
}

int sdnotify_send(const char *msg)
{
	if (notify_fd < 0)
		return -ENOTCONN;
	if (send(notify_fd, msg, strlen(msg), MSG_NOSIGNAL) < 0) {
		int err = -errno;

		pr_warn("sd_notify '%.*s': %s", (int)strcspn(msg, "\n"), msg, strerror(-err));
		return err;
	}
	return 0;
}

void sdnotify_ready(void)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d\n", (int)getpid());
	sdnotify_send(msg);
}

void sdnotify_reloading(void)
{
	sdnotify_send("RELOADING=1\n");
}

void sdnotify_stopping(void)
{
	sdnotify_send("STOPPING=1\n");
}

int sdnotify_daemonize(void)
{
	int p[2], err;
	ssize_t n;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL); /* or buffered output would be written twice */
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid > 0) {
		close(p[1]);
		while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
			;
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	started_fd = p[1];
	setsid();
	return 0;
}

void sdnotify_started(void)
{
	if (started_fd < 0)
		return;
	if (write(started_fd, "R", 1) != 1)
		pr_warn("cannot tell the -D parent the daemon started: %s", strerror(errno));
	close(started_fd);
	started_fd = -1;
}
