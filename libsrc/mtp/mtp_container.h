/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MTP/PTP containers and datasets on the wire (PTP, ISO 15740, USB still
 * image class; MTP 1.1). This is the only place where MTP bytes are read or
 * written: everything else uses the host-order structs below. Decoders are
 * strict and bounded: they never read past the given length, and report
 * the first problem in a message naming the field.
 */
#ifndef USBIP_MTP_CONTAINER_H
#define USBIP_MTP_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

#define MTP_HEADER_SIZE	   12
#define MTP_MAX_PARAMS	   5
#define MTP_COMMAND_MAX	   (MTP_HEADER_SIZE + 4 * MTP_MAX_PARAMS)
#define MTP_LENGTH_UNKNOWN 0xffffffffu /* data phase over 4 GiB: ends with a short packet */
#define MTP_STRING_MAX	   255	       /* UTF-16 units with the terminator */

enum mtp_container_type {
	MTP_CONTAINER_COMMAND = 1,
	MTP_CONTAINER_DATA = 2,
	MTP_CONTAINER_RESPONSE = 3,
	MTP_CONTAINER_EVENT = 4,
};

/* Operation codes */
enum {
	PTP_OC_GetDeviceInfo = 0x1001,
	PTP_OC_OpenSession = 0x1002,
	PTP_OC_CloseSession = 0x1003,
	PTP_OC_GetStorageIDs = 0x1004,
	PTP_OC_GetStorageInfo = 0x1005,
	PTP_OC_GetNumObjects = 0x1006,
	PTP_OC_GetObjectHandles = 0x1007,
	PTP_OC_GetObjectInfo = 0x1008,
	PTP_OC_GetObject = 0x1009,
	PTP_OC_DeleteObject = 0x100b,
	PTP_OC_SendObjectInfo = 0x100c,
	PTP_OC_SendObject = 0x100d,
	PTP_OC_GetDevicePropDesc = 0x1014,
	PTP_OC_GetDevicePropValue = 0x1015,
	PTP_OC_SetDevicePropValue = 0x1016,
	PTP_OC_MoveObject = 0x1019,
	PTP_OC_CopyObject = 0x101a,
	PTP_OC_GetPartialObject = 0x101b,
	MTP_OC_GetObjectPropsSupported = 0x9801,
	MTP_OC_GetObjectPropDesc = 0x9802,
	MTP_OC_GetObjectPropValue = 0x9803,
	MTP_OC_SetObjectPropValue = 0x9804,
	MTP_OC_GetObjectPropList = 0x9805,
	MTP_OC_SendObjectPropList = 0x9808,
	MTP_OC_GetObjectReferences = 0x9810,
	MTP_OC_SetObjectReferences = 0x9811,
	ANDROID_OC_GetPartialObject64 = 0x95c1,
	ANDROID_OC_SendPartialObject = 0x95c2,
	ANDROID_OC_TruncateObject = 0x95c3,
	ANDROID_OC_BeginEditObject = 0x95c4,
	ANDROID_OC_EndEditObject = 0x95c5,
};

/* Response codes */
enum {
	PTP_RC_OK = 0x2001,
	PTP_RC_GeneralError = 0x2002,
	PTP_RC_SessionNotOpen = 0x2003,
	PTP_RC_InvalidTransactionID = 0x2004,
	PTP_RC_OperationNotSupported = 0x2005,
	PTP_RC_ParameterNotSupported = 0x2006,
	PTP_RC_IncompleteTransfer = 0x2007,
	PTP_RC_InvalidStorageId = 0x2008,
	PTP_RC_InvalidObjectHandle = 0x2009,
	PTP_RC_DevicePropNotSupported = 0x200a,
	PTP_RC_StoreFull = 0x200c,
	PTP_RC_StoreReadOnly = 0x200e,
	PTP_RC_AccessDenied = 0x200f,
	PTP_RC_InvalidParentObject = 0x201a,
	PTP_RC_InvalidDevicePropValue = 0x201c,
	PTP_RC_InvalidParameter = 0x201d,
	PTP_RC_SessionAlreadyOpen = 0x201e,
	PTP_RC_TransactionCancelled = 0x201f,
	MTP_RC_InvalidObjectPropCode = 0xa801,
	MTP_RC_InvalidObjectPropFormat = 0xa802,
	MTP_RC_InvalidObjectPropValue = 0xa803,
	MTP_RC_InvalidDataset = 0xa806,
	MTP_RC_SpecificationByGroupUnsupported = 0xa807,
	MTP_RC_SpecificationByDepthUnsupported = 0xa808,
	MTP_RC_ObjectTooLarge = 0xa809,
};

/* Event codes */
enum {
	PTP_EC_ObjectAdded = 0x4002,
	PTP_EC_ObjectRemoved = 0x4003,
	PTP_EC_ObjectInfoChanged = 0x4007,
	PTP_EC_StorageInfoChanged = 0x400c,
};

/* Object formats, properties, data types */
enum {
	PTP_OFC_Undefined = 0x3000,
	PTP_OFC_Association = 0x3001,
	PTP_AT_GenericFolder = 0x0001,
	MTP_OPC_StorageID = 0xdc01,
	MTP_OPC_ObjectFormat = 0xdc02,
	MTP_OPC_ProtectionStatus = 0xdc03,
	MTP_OPC_ObjectSize = 0xdc04,
	MTP_OPC_ObjectFileName = 0xdc07,
	MTP_OPC_DateModified = 0xdc09,
	MTP_OPC_ParentObject = 0xdc0b,
	MTP_OPC_PersistentUID = 0xdc41,
	MTP_OPC_Name = 0xdc44,
	PTP_DPC_BatteryLevel = 0x5001,
	PTP_DPC_SynchronizationPartner = 0xd401,
	PTP_DPC_DeviceFriendlyName = 0xd402,
	PTP_DTC_INT8 = 0x0001,
	PTP_DTC_UINT8 = 0x0002,
	PTP_DTC_UINT16 = 0x0004,
	PTP_DTC_UINT32 = 0x0006,
	PTP_DTC_UINT64 = 0x0008,
	PTP_DTC_UINT128 = 0x000a,
	PTP_DTC_ARRAY = 0x4000, /* | an integer type: a u32 count, then the elements */
	PTP_DTC_STR = 0xffff,
};

struct mtp_header {
	uint32_t length; /* of the whole container, header included */
	uint16_t type;
	uint16_t code;
	uint32_t transaction_id;
};

/* A command (or response, or event) with its parameters. */
struct mtp_operation {
	uint16_t code;
	uint32_t transaction_id;
	uint32_t params[MTP_MAX_PARAMS];
	unsigned int num_params;
};

int mtp_container_decode_header(const uint8_t *buf, size_t len, struct mtp_header *hdr,
				struct usbip_error *err);
/* A whole command container: length must match, 0..5 parameters. */
int mtp_container_decode_command(const uint8_t *buf, size_t len, struct mtp_operation *op,
				 struct usbip_error *err);
/* Response and event containers; return the length written (at most MTP_COMMAND_MAX). */
size_t mtp_container_encode_response(uint8_t out[MTP_COMMAND_MAX],
				     const struct mtp_operation *resp);
size_t mtp_container_encode_event(uint8_t out[MTP_COMMAND_MAX], const struct mtp_operation *event);
/* The 12-byte header of a data container carrying payload_len bytes (over 4 GiB: unknown). */
void mtp_container_encode_data_header(uint8_t out[MTP_HEADER_SIZE], uint16_t code,
				      uint32_t transaction_id, uint64_t payload_len);

/* ---- building datasets ---- */

/* A growing buffer; a failed allocation sets failed and later puts do nothing. */
struct mtp_buf {
	uint8_t *data;
	size_t len, cap;
	bool failed;
};

void mtp_container_buf_free(struct mtp_buf *b);
void mtp_container_put_bytes(struct mtp_buf *b, const void *p, size_t n);
void mtp_container_put_u8(struct mtp_buf *b, uint8_t v);
void mtp_container_put_u16(struct mtp_buf *b, uint16_t v);
void mtp_container_put_u32(struct mtp_buf *b, uint32_t v);
void mtp_container_put_u64(struct mtp_buf *b, uint64_t v);
void mtp_container_put_u128(struct mtp_buf *b, uint64_t lo, uint64_t hi);
/* UTF-8 in; a u8 count of UTF-16 units with the terminator, then UTF-16LE. NULL or "" is empty. */
void mtp_container_put_string(struct mtp_buf *b, const char *utf8);
void mtp_container_put_u16_array(struct mtp_buf *b, const uint16_t *v, size_t n);
void mtp_container_put_u32_array(struct mtp_buf *b, const uint32_t *v, size_t n);
/* Overwrites the u32 at offset (a count written before the elements). */
void mtp_container_patch_u32(struct mtp_buf *b, size_t offset, uint32_t v);

/* ---- reading datasets ---- */

/* A bounded cursor: the first read past the end sets failed, and reads give 0. */
struct mtp_reader {
	const uint8_t *p;
	size_t len, off;
	bool failed;
	const char *field; /* the field being read when failed was set */
};

void mtp_container_reader_init(struct mtp_reader *r, const uint8_t *p, size_t len);
uint8_t mtp_container_get_u8(struct mtp_reader *r, const char *field);
uint16_t mtp_container_get_u16(struct mtp_reader *r, const char *field);
uint32_t mtp_container_get_u32(struct mtp_reader *r, const char *field);
uint64_t mtp_container_get_u64(struct mtp_reader *r, const char *field);
/*
 * An MTP string into out (UTF-8, NUL-terminated, at most cap bytes). Bad
 * UTF-16 (lone surrogates, an embedded NUL, no terminator) fails the read.
 */
void mtp_container_get_string(struct mtp_reader *r, char *out, size_t cap, const char *field);

/* ---- typed datasets ---- */

#define MTP_NAME_MAX 1024 /* UTF-8 bytes of a file name from the wire (255 UTF-16 units) */

/* ObjectInfo (PTP 5.5.2), the fields this device uses. */
struct mtp_object_info {
	uint32_t storage_id;
	uint16_t format;
	uint16_t protection;
	uint32_t compressed_size; /* 0xffffffff: 4 GiB or more */
	uint32_t parent;
	uint16_t association_type;
	char filename[MTP_NAME_MAX];
	char modified[32]; /* "YYYYMMDDThhmmss" or "" */
};

int mtp_container_decode_object_info(const uint8_t *buf, size_t len, struct mtp_object_info *info,
				     struct usbip_error *err);
void mtp_container_encode_object_info(struct mtp_buf *b, const struct mtp_object_info *info);

struct mtp_device_info {
	const uint16_t *operations;
	size_t num_operations;
	const uint16_t *events;
	size_t num_events;
	const uint16_t *device_props;
	size_t num_device_props;
	const uint16_t *formats;
	size_t num_formats;
	const char *extensions, *manufacturer, *model, *version, *serial;
};

void mtp_container_encode_device_info(struct mtp_buf *b, const struct mtp_device_info *info);

struct mtp_storage_info {
	bool read_only;
	uint64_t capacity, free_bytes;
	const char *description, *volume;
};

void mtp_container_encode_storage_info(struct mtp_buf *b, const struct mtp_storage_info *info);

/* A property value of the given PTP_DTC_* type: integers in u64 (u128: lo/hi), strings in str. */
struct mtp_value {
	uint16_t type;
	uint64_t u, hi;
	const char *str;
};

void mtp_container_put_value(struct mtp_buf *b, const struct mtp_value *v);
/* ObjectPropDesc with no form. */
void mtp_container_encode_object_prop_desc(struct mtp_buf *b, uint16_t prop,
					   const struct mtp_value *def, bool settable,
					   uint32_t group);
/* DevicePropDesc: range NULL (no form) or minimum, maximum, step (the range form). */
void mtp_container_encode_device_prop_desc(struct mtp_buf *b, uint16_t prop,
					   const struct mtp_value *def,
					   const struct mtp_value *current, bool settable,
					   const struct mtp_value *range);
/* One element of an ObjectPropList: handle, property code, type, value. */
void mtp_container_put_prop_element(struct mtp_buf *b, uint32_t handle, uint16_t prop,
				    const struct mtp_value *v);

/*
 * What a SendObjectPropList dataset (MTP 1.1 D.2.30: a u32 count, then
 * elements of handle, property code, data type, value) says of the object
 * to come: its file name (required) and modification date (if given).
 * Every element is walked, whatever its property, so that a count that
 * lies, a value cut short or a type that does not exist is refused; on
 * failure, *failed_index is the element it was found in (from 0; 0 too
 * when no element holds the file name).
 */
struct mtp_prop_list_info {
	char filename[MTP_NAME_MAX];
	char modified[32];
	uint32_t count;
};

int mtp_container_decode_send_prop_list(const uint8_t *buf, size_t len,
					struct mtp_prop_list_info *info, uint32_t *failed_index,
					struct usbip_error *err);
/* A u32 array (a count, then the elements) that fills buf exactly; its count in *count. */
int mtp_container_decode_u32_array(const uint8_t *buf, size_t len, uint32_t *count,
				   struct usbip_error *err);

/*
 * ---- Microsoft OS descriptors 1.0 ----
 * What tells Windows to use its MTP driver: string descriptor 0xEE
 * ("MSFT100" and a vendor code), then vendor requests with that code as
 * bRequest: wIndex 4 asks for the extended compat ID descriptor, wIndex 5
 * for the extended properties descriptor. Little-endian, as USB is.
 */
#define MTP_MS_OS_STRING_INDEX	0xee
#define MTP_MS_VENDOR_CODE	0x01
#define MTP_MS_COMPAT_ID_INDEX	4
#define MTP_MS_EXT_PROPS_INDEX	5
#define MTP_MS_COMPAT_ID_HEADER 16 /* the header the host may ask for alone */
#define MTP_MS_EXT_PROPS_HEADER 10

/* The extended compat ID descriptor: one function, interface first_interface, compatible_id. */
void mtp_container_encode_ms_compat_id(struct mtp_buf *b, uint8_t first_interface,
				       const char *compatible_id);
/* The extended properties descriptor with no property sections. */
void mtp_container_encode_ms_ext_props(struct mtp_buf *b);

#endif
