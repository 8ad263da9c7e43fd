/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The USB/IP wire format (v1.1.1, as the Linux kernel speaks it) plus the
 * OP_REQ/REP_EXPORT and OP_REQ/REP_UNEXPORT pair of the "usbip: exporting
 * devices" series.
 *
 * This is the only place where bytes on the wire are read or written. Every
 * other module works with the structs below, in host byte order. Decoders are
 * strict: they take a buffer and its length, never read past it, and report
 * the first problem as a message naming the field.
 */
#ifndef USBIP_PROTO_H
#define USBIP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

#define USBIP_VERSION 0x0111

/* Operation codes of the control phase (OP_* messages). */
enum usbip_op_code {
	USBIP_OP_REQ_IMPORT = 0x8003,
	USBIP_OP_REP_IMPORT = 0x0003,
	USBIP_OP_REQ_DEVLIST = 0x8005,
	USBIP_OP_REP_DEVLIST = 0x0005,
	USBIP_OP_REQ_EXPORT = 0x8006,
	USBIP_OP_REP_EXPORT = 0x0006,
	USBIP_OP_REQ_UNEXPORT = 0x8007,
	USBIP_OP_REP_UNEXPORT = 0x0007,
};

/*
 * Status values carried in the header of the classic replies (DEVLIST,
 * IMPORT): the kernel tools' ST_* values (tools/usb/usbip/libsrc/
 * usbip_common.h), so that Debian's usbip prints the right message.
 */
enum usbip_op_status {
	USBIP_ST_OK = 0,       /* request completed */
	USBIP_ST_NA = 1,       /* device not available (not bound/exportable) */
	USBIP_ST_DEV_BUSY = 2, /* device already in use */
	USBIP_ST_DEV_ERR = 3,  /* device in error state */
	USBIP_ST_NODEV = 4,    /* no device with that busid */
	USBIP_ST_ERROR = 5,    /* any other failure */
};

/* Human-readable text for an OP status (never NULL). */
const char *usbip_proto_op_status_str(uint32_t status);

/*
 * Status values of OP_REP_EXPORT and OP_REP_UNEXPORT, as the export patch
 * series defines them (its usbipa answers these, its connect reads them).
 * A refusal by policy is NOT_ACCEPTED: the reason stays in usbipa's log.
 */
enum usbip_export_status {
	USBIP_EXPORT_ST_OK = 0,		  /* exported (attached) / withdrawn */
	USBIP_EXPORT_ST_NOT_ACCEPTED = 1, /* refused: policy, bad request, any failure */
	USBIP_EXPORT_ST_NO_PORT = 2,	  /* no free vhci port of the device's speed */
	USBIP_EXPORT_ST_NODEV = 3,	  /* unexport: no such device from this node */
};

/* Human-readable text for an export reply's status (never NULL). */
const char *usbip_proto_export_status_str(uint32_t status);

/* Fixed sizes on the wire. */
#define USBIP_OP_HEADER_SIZE	    8
#define USBIP_BUSID_SIZE	    32
#define USBIP_PATH_SIZE		    256
#define USBIP_SERIAL_SIZE	    64
#define USBIP_DEVICE_RECORD_SIZE    312
#define USBIP_INTERFACE_RECORD_SIZE 4
#define USBIP_DEVLIST_COUNT_SIZE    4
#define USBIP_IMPORT_REQUEST_SIZE   USBIP_BUSID_SIZE
#define USBIP_URB_HEADER_SIZE	    48
#define USBIP_ISO_PACKET_SIZE	    16

/* Bounds on peer-given counts and lengths. */
#define USBIP_MAX_INTERFACES  32	  /* USB_MAXINTERFACES in Linux */
#define USBIP_MAX_DEVLIST     1024	  /* devices in one OP_REP_DEVLIST */
#define USBIP_MAX_ISO_PACKETS 1024	  /* USBIP_MAX_ISO_PACKETS in Linux */
#define USBIP_MAX_TRANSFER    (16u << 20) /* bytes in one URB's buffer */

/* ---- Control phase ---------------------------------------------------- */

struct usbip_op_header {
	uint16_t version;
	uint16_t code;
	uint32_t status;
};

struct usbip_usb_interface {
	uint8_t interface_class;
	uint8_t interface_subclass;
	uint8_t interface_protocol;
};

/*
 * The 312-byte device record of OP_REP_DEVLIST/IMPORT and OP_REQ_(UN)EXPORT.
 *
 * serial is our extension, for usbipa's policy on OP_REQ_EXPORT: the device
 * side writes "serial=<iSerialNumber>" after the path's terminating zero,
 * in bytes the protocol leaves zero and every other reader ignores. Empty
 * when absent; the kernel tools never send it, and our daemons' replies
 * never carry it.
 */
struct usbip_usb_device {
	char path[USBIP_PATH_SIZE];
	char serial[USBIP_SERIAL_SIZE];
	char busid[USBIP_BUSID_SIZE];
	uint32_t busnum;
	uint32_t devnum;
	uint32_t speed; /* enum usb_device_speed of the Linux kernel */
	uint16_t id_vendor;
	uint16_t id_product;
	uint16_t bcd_device;
	uint8_t device_class;
	uint8_t device_subclass;
	uint8_t device_protocol;
	uint8_t configuration_value;
	uint8_t num_configurations;
	uint8_t num_interfaces;
};

/* One entry of OP_REP_DEVLIST: the device and its interfaces. */
struct usbip_devlist_entry {
	struct usbip_usb_device udev;
	struct usbip_usb_interface interfaces[USBIP_MAX_INTERFACES];
};

/* Speeds as the kernel numbers them (enum usb_device_speed). */
enum usbip_speed {
	USBIP_SPEED_UNKNOWN = 0,
	USBIP_SPEED_LOW = 1,
	USBIP_SPEED_FULL = 2,
	USBIP_SPEED_HIGH = 3,
	USBIP_SPEED_WIRELESS = 4,
	USBIP_SPEED_SUPER = 5,
	USBIP_SPEED_SUPER_PLUS = 6,
};

const char *usbip_proto_speed_str(uint32_t speed);

/*
 * Whether busid can go on the wire: 1 to 31 bytes of printable ASCII, no
 * space (what the decoders accept in a busid field, and the encoders send).
 */
bool usbip_proto_busid_ok(const char *busid);

/*
 * Encoders write exactly the documented number of bytes into out, which the
 * caller sizes with the *_SIZE constants. Strings are copied with zero fill;
 * an over-long string (or a serial that does not fit after the path), or a
 * busid usbip_proto_busid_ok refuses, is an error (-1), never truncated silently.
 */
void usbip_proto_encode_op_header(uint8_t out[USBIP_OP_HEADER_SIZE],
				  const struct usbip_op_header *hdr);
int usbip_proto_encode_device(uint8_t out[USBIP_DEVICE_RECORD_SIZE],
			      const struct usbip_usb_device *udev);
void usbip_proto_encode_interface(uint8_t out[USBIP_INTERFACE_RECORD_SIZE],
				  const struct usbip_usb_interface *intf);
void usbip_proto_encode_devlist_count(uint8_t out[USBIP_DEVLIST_COUNT_SIZE], uint32_t count);
int usbip_proto_encode_import_request(uint8_t out[USBIP_IMPORT_REQUEST_SIZE], const char *busid);

/*
 * Decoders return 0 on success and -1 on a malformed input, with err->msg
 * naming the field. They only look at the given bytes. A busid must pass
 * usbip_proto_busid_ok and a path must hold no control character: both are
 * written into logs, and a busid into sysfs and vhci's port records.
 *
 * usbip_proto_decode_op_header checks the version; expect_code is the code the
 * caller waits for, or 0 to accept any known code.
 */
int usbip_proto_decode_op_header(const uint8_t *buf, size_t len, uint16_t expect_code,
				 struct usbip_op_header *hdr, struct usbip_error *err);
int usbip_proto_decode_device(const uint8_t *buf, size_t len, struct usbip_usb_device *udev,
			      struct usbip_error *err);
int usbip_proto_decode_interface(const uint8_t *buf, size_t len, struct usbip_usb_interface *intf,
				 struct usbip_error *err);
int usbip_proto_decode_devlist_count(const uint8_t *buf, size_t len, uint32_t *count,
				     struct usbip_error *err);
int usbip_proto_decode_import_request(const uint8_t *buf, size_t len, char busid[USBIP_BUSID_SIZE],
				      struct usbip_error *err);

/* Size of the body that follows an OP header with this code (fixed part). */
size_t usbip_proto_op_body_size(uint16_t code, uint32_t status);

/*
 * Whole-message helpers over a complete buffer, used by tests and fuzzers and
 * by code that already holds the full message. *used returns how many bytes
 * the message took.
 */
struct usbip_devlist {
	uint32_t count;
	struct usbip_devlist_entry *entries; /* count entries, free with usbip_proto_devlist_free */
};
int usbip_proto_decode_devlist_reply(const uint8_t *buf, size_t len, struct usbip_devlist *list,
				     size_t *used, struct usbip_error *err);
void usbip_proto_devlist_free(struct usbip_devlist *list);
/* Returns the number of bytes written, or -1 if out is too small or a string is too long. */
long usbip_proto_encode_devlist_reply(uint8_t *out, size_t out_len,
				      const struct usbip_devlist *list);
size_t usbip_proto_devlist_reply_size(const struct usbip_devlist *list);

/* ---- URB phase --------------------------------------------------------- */

enum usbip_urb_command {
	USBIP_CMD_SUBMIT = 1,
	USBIP_CMD_UNLINK = 2,
	USBIP_RET_SUBMIT = 3,
	USBIP_RET_UNLINK = 4,
};

enum usbip_direction {
	USBIP_DIR_OUT = 0,
	USBIP_DIR_IN = 1,
};

/* URB transfer_flags values that matter on the wire (Linux's URB_*). */
#define USBIP_URB_SHORT_NOT_OK 0x0001
#define USBIP_URB_ISO_ASAP     0x0002
#define USBIP_URB_ZERO_PACKET  0x0040
#define USBIP_URB_DIR_IN       0x0200

/* number_of_packets of a non-isochronous URB, as the protocol document says. */
#define USBIP_NON_ISO 0xffffffffu

struct usbip_header_basic {
	uint32_t command;
	uint32_t seqnum;
	uint32_t devid;
	uint32_t direction;
	uint32_t ep;
};

struct usbip_cmd_submit {
	uint32_t transfer_flags;
	uint32_t transfer_buffer_length;
	int32_t start_frame;
	uint32_t number_of_packets;
	int32_t interval;
	uint8_t setup[8];
};

struct usbip_ret_submit {
	int32_t status;
	uint32_t actual_length;
	int32_t start_frame;
	uint32_t number_of_packets;
	int32_t error_count;
};

struct usbip_cmd_unlink {
	uint32_t unlink_seqnum;
};

struct usbip_ret_unlink {
	int32_t status;
};

struct usbip_urb_header {
	struct usbip_header_basic base;
	union {
		struct usbip_cmd_submit cmd_submit;
		struct usbip_ret_submit ret_submit;
		struct usbip_cmd_unlink cmd_unlink;
		struct usbip_ret_unlink ret_unlink;
	} u;
};

struct usbip_iso_packet {
	uint32_t offset;
	uint32_t length;
	uint32_t actual_length;
	int32_t status;
};

/*
 * Whether a submit carries ISO packet descriptors: Linux sends 0 for
 * non-isochronous URBs, the protocol document says 0xffffffff; both mean none.
 */
int usbip_proto_has_iso_packets(uint32_t number_of_packets);

void usbip_proto_encode_urb_header(uint8_t out[USBIP_URB_HEADER_SIZE],
				   const struct usbip_urb_header *hdr);
int usbip_proto_decode_urb_header(const uint8_t *buf, size_t len, struct usbip_urb_header *hdr,
				  struct usbip_error *err);
void usbip_proto_encode_iso_packet(uint8_t out[USBIP_ISO_PACKET_SIZE],
				   const struct usbip_iso_packet *iso);
int usbip_proto_decode_iso_packet(const uint8_t *buf, size_t len, struct usbip_iso_packet *iso,
				  struct usbip_error *err);

/*
 * How many payload bytes and ISO descriptors follow a decoded URB header on
 * the wire: OUT submits carry transfer_buffer_length bytes, IN returns carry
 * actual_length bytes. For a RET_SUBMIT the direction comes from the
 * matching CMD_SUBMIT (the reply's own direction field is 0), so the caller
 * passes it.
 */
struct usbip_proto_urb_payload {
	uint32_t data_len;
	uint32_t iso_count;
};
int usbip_proto_urb_payload(const struct usbip_urb_header *hdr, uint32_t submit_direction,
			    struct usbip_proto_urb_payload *payload, struct usbip_error *err);

/*
 * A complete URB PDU in one buffer: header, data, ISO descriptors. Data
 * points into the caller's buffer; iso is allocated (free with
 * usbip_proto_urb_free). submit_direction as for usbip_proto_urb_payload.
 */
struct usbip_urb {
	struct usbip_urb_header hdr;
	const uint8_t *data;
	uint32_t data_len;
	struct usbip_iso_packet *iso;
	uint32_t iso_count;
};
int usbip_proto_decode_urb(const uint8_t *buf, size_t len, uint32_t submit_direction,
			   struct usbip_urb *urb, size_t *used, struct usbip_error *err);
void usbip_proto_urb_free(struct usbip_urb *urb);
size_t usbip_proto_urb_size(const struct usbip_urb *urb);
/* Returns bytes written or -1 if out is too small. */
long usbip_proto_encode_urb(uint8_t *out, size_t out_len, const struct usbip_urb *urb);

#endif
