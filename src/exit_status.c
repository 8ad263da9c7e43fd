// SPDX-License-Identifier: GPL-2.0-or-later
#include "exit_status.h"

int exit_status(enum usbip_result result)
{
	switch (result) {
	case USBIP_OK:
		return USBIP_EXIT_OK;
	case USBIP_E_UNREACHABLE:
		return USBIP_EXIT_UNREACHABLE;
	case USBIP_E_REFUSED:
		return USBIP_EXIT_REFUSED;
	case USBIP_E_CONFIG:
		return USBIP_EXIT_USAGE;
	case USBIP_E_FAILED:
		break;
	}
	return USBIP_EXIT_FAILURE;
}

int exit_status_for_args(enum daemon_args args)
{
	switch (args) {
	case DAEMON_ARGS_RUN:
		break;
	case DAEMON_ARGS_DONE:
		return USBIP_EXIT_OK;
	case DAEMON_ARGS_BAD:
		return USBIP_EXIT_USAGE;
	}
	return -1;
}
