// SPDX-License-Identifier: GPL-2.0-or-later
#include "util/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "util/log.h"

const char *privdrop_default_user(void)
{
	return getpwnam(PRIVDROP_USER) ? PRIVDROP_USER : "nobody";
}

int privdrop_to(const char *user)
{
	return privdrop_jail(user, NULL);
}

int privdrop_jail(const char *user, const char *root)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		log_err("no user '%s' to run as", user);
		return -1;
	}
	/* While still root: chroot needs CAP_SYS_CHROOT, and the user was looked up. */
	if (root && (chroot(root) != 0 || chdir("/") != 0)) {
		log_err("cannot make %s the root: %s", root, strerror(errno));
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		log_err("cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	/* Checked, not assumed: root must be out of reach now. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_err("could become root again after dropping to %s", user);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	if (root)
		log_info("running as %s (uid %u) in %s", user, (unsigned)pw->pw_uid, root);
	else
		log_info("running as %s (uid %u)", user, (unsigned)pw->pw_uid);
	return 0;
}
