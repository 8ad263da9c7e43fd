// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbip status: what this machine's daemons and agent are doing, read from
 * their status sockets (libsrc/daemon/status.h), and what it has imported.
 * --json prints one document: {"schema": 1, "daemons": [...], "imported":
 * [...]}, each daemon's object as it sent it once parsed (daemon/
 * status_client.h) and written again by the JSON writer, or {"socket":
 * PATH, "error": WHY} for one that gave no valid answer in time; the text
 * form is a table for people (status_client_table_add), a line for a daemon that
 * gave no valid answer.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/status.h"
#include "daemon/status_client.h"
#include "kernel/host.h"
#include "kernel/vhci.h"
#include "util/json.h"
#include "util/log.h"
#include "usbip.h"

/* Where the status sockets are: USBIP_STATUS_DIR (tests, a second tree), else STATUS_DIR. */
static const char *status_dir(void)
{
	const char *dir = getenv("USBIP_STATUS_DIR");

	return dir && dir[0] ? dir : STATUS_DIR;
}

static int is_socket_name(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && strcmp(e->d_name + n - 5, ".sock") == 0;
}

/* A daemon that gave no usable answer, as the JSON document shows it. */
static void write_failure(struct json_writer *w, const char *path, const char *why)
{
	json_object_begin(w, NULL);
	json_string(w, "socket", path);
	json_string(w, "error", why);
	json_object_end(w);
}

/* The same, for people: one line naming the socket. */
static void render_failure(const char *path, const char *why)
{
	char p[LOG_ESCAPED_SIZE(256)];

	printf("%s: no status: %s\n", log_escape(p, sizeof(p), path), why);
}

/* One daemon's answer into the document (w), or for people (w NULL) into table. */
static void show(struct json_writer *w, struct status_table *table, const char *path)
{
	struct json_value *answer;
	char why[256];

	switch (status_client_ask(path, STATUS_DEADLINE_MS, &answer, why, sizeof(why))) {
	case STATUS_NOBODY:
		break;
	case STATUS_ANSWERED:
		if (w) {
			json_parse_write_value(w, NULL, answer);
		} else {
			status_client_table_add(table, "?", answer);
		}
		json_parse_value_free(answer);
		break;
	case STATUS_FAILED:
		if (w)
			write_failure(w, path, why);
		else
			render_failure(path, why);
		break;
	}
}

/* A user's folder (a daemon that runs as that user has its socket there: daemon/status.h). */
static int is_user_folder(const struct dirent *e)
{
	return e->d_type == DT_DIR && e->d_name[0] != '.';
}

/* Asks every socket in dir, in name order, then in its users' folders; whether there was any. */
static bool ask_all(const char *dir, struct json_writer *w, struct status_table *table, bool users)
{
	struct dirent **names;
	char path[512];
	bool any;
	int n, i;

	n = scandir(dir, &names, is_socket_name, alphasort);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		show(w, table, path);
	}
	if (n >= 0)
		free(names);
	any = n > 0;
	n = users ? scandir(dir, &names, is_user_folder, alphasort) : -1;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		any = ask_all(path, w, table, false) || any;
	}
	if (n >= 0)
		free(names);
	return any;
}

/*
 * The selector fields of the device vhci-hcd made at local_busid, as the
 * rules name it (usbip.conf(5)); nothing while it is not there yet.
 */
static void imported_identity(struct json_writer *w, const char *local_busid)
{
	struct usbip_local_device dev;

	if (host_peek(local_busid, &dev) != 0)
		return;
	json_hex(w, "vendor", dev.info.udev.id_vendor, 4);
	json_hex(w, "product", dev.info.udev.id_product, 4);
	if (dev.serial[0])
		json_string(w, "serial", dev.serial);
}

/* What is imported here (usbip port's view), as part of the document. */
static void imported(struct json_writer *w)
{
	struct usbip_vhci_record rec;
	struct usbip_vhci vhci;
	unsigned i;

	json_array_begin(w, "imported");
	/* No vhci-hcd loaded: nothing imported, and nothing to complain about. */
	if (access(USBIP_VHCI_SYSFS, F_OK) == 0 && vhci_open(&vhci) == 0) {
		for (i = 0; i < vhci.nports; i++) {
			if (vhci.ports[i].status == USBIP_VDEV_NULL)
				continue;
			json_object_begin(w, NULL);
			json_uint(w, "port", i);
			json_string(w, "local_busid", vhci.ports[i].local_busid);
			if (vhci_record_read(i, &rec) == 0) {
				json_string(w, "from", rec.host);
				json_string(w, "busid", rec.busid);
			}
			imported_identity(w, vhci.ports[i].local_busid);
			json_object_end(w);
		}
		vhci_close(&vhci);
	}
	json_array_end(w);
}

/* The local part, for people: through the same writer, then into the same table. */
static void render_imported(struct status_table *table)
{
	struct json_writer w;
	struct json_value *v;
	char *text = NULL, why[160];
	size_t len = 0;
	FILE *local = open_memstream(&text, &len);

	if (!local)
		return;
	json_init(&w, local);
	json_object_begin(&w, NULL);
	imported(&w);
	json_object_end(&w);
	fclose(local);
	v = status_client_answer_parse(text, len, why, sizeof(why));
	if (v)
		status_client_table_add(table, "here", v);
	json_parse_value_free(v);
	free(text);
}

/*
 * Whether this user may ask the daemons: connecting to a status socket
 * takes write permission on it, and it is root's (0600) unless the admin
 * gave it to a group (usbip(8), STATUS). Says so in one line, with what
 * gives access, rather than that nothing runs. 0 when every socket is
 * reachable (or there is none), -1 after saying which one is not.
 */
static int check_status_access(const char *dir)
{
	struct dirent **names;
	char path[512];
	int n, i, rc = 0;

	n = scandir(dir, &names, is_socket_name, alphasort);
	if (n < 0 && errno == EACCES) {
		snprintf(path, sizeof(path), "%s", dir);
		rc = -1;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (access(path, W_OK) != 0 && errno == EACCES)
				rc = -1;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	if (rc != 0)
		fprintf(stderr,
			"usbip status: no permission to read %s: run 'sudo usbip status', or be in "
			"the group usbip once the admin lets it read the status (usbip(8), "
			"STATUS)\n",
			path);
	return rc;
}

int usbip_status(int argc, char **argv)
{
	struct status_table table = { .out = stdout };
	struct json_writer w;
	char help[512];
	bool json;
	int rc;

	snprintf(help, sizeof(help),
		 "What usbipd, usbipa and the agent on this machine are doing (from\n"
		 "their sockets in %s), and what is imported here.\n",
		 status_dir());
	rc = usbip_parse_json_only(argc, argv, "status", help, &json);
	if (rc >= 0)
		return rc;
	if (check_status_access(status_dir()) != 0)
		return USBIP_EXIT_FAILURE;
	if (!json) {
		if (!ask_all(status_dir(), NULL, &table, true))
			printf("no usbipd, usbipa or agent answers here (%s)\n", status_dir());
		render_imported(&table);
		return USBIP_EXIT_OK;
	}
	json_init(&w, stdout);
	json_object_begin(&w, NULL);
	json_uint(&w, "schema", STATUS_SCHEMA);
	json_array_begin(&w, "daemons");
	ask_all(status_dir(), &w, &table, true);
	json_array_end(&w);
	imported(&w);
	json_object_end(&w);
	json_finish(&w);
	return USBIP_EXIT_OK;
}
