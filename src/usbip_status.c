// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip status: what this machine's daemons and agent are doing, read from
 * their status sockets (libsrc/daemon/status.h), and what it has imported.
 * --json prints one document: {"schema": 1, "daemons": [...], "imported":
 * [...]}, each daemon's object as it sent it; the text form shows the same
 * fields, indented.
 */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/status.h"
#include "kernel/vhci.h"
#include "util/json.h"
#include "util/log.h"
#include "usbip.h"

#define READ_TIMEOUT_MS 2000

/* One daemon's answer, whole, or NULL (said why). */
static char *ask(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	struct pollfd pfd;
	ssize_t n;
	int fd;

	if (!buf || snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path) >=
			    (int)sizeof(addr.sun_path)) {
		free(buf);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		/* A socket left by a daemon that died: nothing runs there. */
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (poll(&pfd, 1, READ_TIMEOUT_MS) > 0) {
		if (len + 1 >= cap) {
			char *bigger = cap >= STATUS_MAX_BYTES ? NULL : realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (!len || buf[0] != '{' || buf[len - 1] != '}') {
		log_warn("%s: no status object in its answer", path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* The JSON text as indented "key: value" lines; times as local times. */
static void render(const char *p)
{
	int depth = 0;
	bool in_array[32] = { false }, after_key = false;
	char key[512] = "";

	while (*p) {
		if (*p == '{' || *p == '[') {
			if (depth > 0 && in_array[depth - 1] && *p == '{')
				printf("%*s-\n", depth * 2, "");
			else if (after_key)
				printf("\n");
			if (depth < 31)
				in_array[++depth] = *p == '[';
			after_key = false;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else if (*p == '"') {
			const char *end = p + 1;
			char text[512];
			size_t n = 0;

			while (*end && *end != '"') {
				if (*end == '\\' && end[1])
					end++;
				if (n + 1 < sizeof(text))
					text[n++] = *end;
				end++;
			}
			text[n] = '\0';
			p = *end ? end + 1 : end;
			while (*p == ' ')
				p++;
			if (*p == ':' && !after_key) {
				snprintf(key, sizeof(key), "%s", text);
				printf("%*s%s:", depth * 2, "", key);
				after_key = true;
				p++;
			} else {
				if (after_key)
					printf(" %s\n", text);
				else
					printf("%*s%s\n", depth * 2, "", text);
				after_key = false;
			}
		} else if (*p == ',' || *p == ' ' || *p == '\n') {
			p++;
		} else {
			char word[64];
			size_t n = 0;

			while (*p && !strchr(",}] \n", *p) && n + 1 < sizeof(word))
				word[n++] = *p++;
			word[n] = '\0';
			if (after_key &&
			    (strcmp(key, "since") == 0 || strcmp(key, "started") == 0)) {
				time_t t = (time_t)strtoll(word, NULL, 10);
				char when[64];

				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
				printf(" %s\n", when);
			} else {
				printf(" %s\n", word);
			}
			after_key = false;
		}
	}
}

/* What is imported here (usbip port's view), as part of the document. */
static void imported(struct json_writer *w)
{
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;

	json_array_begin(w, "imported");
	/* No vhci-hcd loaded: nothing imported, and nothing to complain about. */
	if (access(USBIP_VHCI_SYSFS, F_OK) == 0 && usbip_vhci_open(&vhci) == 0) {
		for (i = 0; i < vhci.nports; i++) {
			if (vhci.ports[i].status == USBIP_VDEV_NULL)
				continue;
			json_object_begin(w, NULL);
			json_uint(w, "port", i);
			json_string(w, "local_busid", vhci.ports[i].local_busid);
			if (usbip_vhci_record_read(i, &rec) == 0) {
				json_string(w, "from", rec.host);
				json_string(w, "busid", rec.busid);
			}
			json_object_end(w);
		}
		usbip_vhci_close(&vhci);
	}
	json_array_end(w);
}

int usbip_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct json_writer w;
	struct dirent *e;
	bool json = false;
	char *text = NULL;
	size_t len = 0;
	FILE *local;
	DIR *dir;
	int c, ndaemons = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: usbip status [--json]\n\n"
			       "What usbipd, usbipa and the agent on this machine are doing (from\n"
			       "their sockets in %s), and what is imported here.\n",
			       STATUS_DIR);
			return USBIP_EXIT_OK;
		default:
			return usbip_bad_option("status", argv, opts);
		}
	}
	if (optind < argc)
		return usbip_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (json)
		printf("{\"schema\": %d, \"daemons\": [", STATUS_SCHEMA);
	dir = opendir(STATUS_DIR);
	while (dir && (e = readdir(dir)) != NULL) {
		char path[512], *answer;
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".sock") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", STATUS_DIR, e->d_name);
		answer = ask(path);
		if (!answer)
			continue;
		if (json) {
			printf("%s%s", ndaemons ? ", " : "", answer);
		} else {
			render(answer);
			printf("\n");
		}
		ndaemons++;
		free(answer);
	}
	if (dir)
		closedir(dir);
	/* The local part through the same writer, so both forms show the same fields. */
	local = open_memstream(&text, &len);
	if (!local)
		return USBIP_EXIT_FAILURE;
	json_init(&w, local);
	json_object_begin(&w, NULL);
	imported(&w);
	json_object_end(&w);
	fclose(local);
	if (json) {
		/* Splice the "imported" member into the document. */
		char *body = strchr(text, '{');
		size_t blen = body ? strlen(body) : 0;

		while (blen && (body[blen - 1] == '\n' || body[blen - 1] == '}'))
			body[--blen] = '\0';
		printf("], %s}\n", body ? body + 1 : "\"imported\": []");
	} else {
		if (!ndaemons)
			printf("no usbipd, usbipa or agent answers here (%s)\n\n", STATUS_DIR);
		render(text);
	}
	free(text);
	return USBIP_EXIT_OK;
}
