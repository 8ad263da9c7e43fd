// SPDX-License-Identifier: GPL-2.0-or-later
#include "mtp/mtp_container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int mtp_container_decode_header(const uint8_t *buf, size_t len, struct mtp_header *hdr,
				struct usbip_error *err)
{
	if (len < MTP_HEADER_SIZE)
		return result_error_set(err, "header: %zu bytes, need %d", len, MTP_HEADER_SIZE);
	hdr->length = le32(buf);
	hdr->type = le16(buf + 4);
	hdr->code = le16(buf + 6);
	hdr->transaction_id = le32(buf + 8);
	if (hdr->length < MTP_HEADER_SIZE)
		return result_error_set(err, "length: %u is shorter than the header", hdr->length);
	if (hdr->type < MTP_CONTAINER_COMMAND || hdr->type > MTP_CONTAINER_EVENT)
		return result_error_set(err, "type: unknown container type %u", hdr->type);
	return 0;
}

int mtp_container_decode_command(const uint8_t *buf, size_t len, struct mtp_operation *op,
				 struct usbip_error *err)
{
	struct mtp_header hdr;
	unsigned int i;

	memset(op, 0, sizeof(*op));
	if (mtp_container_decode_header(buf, len, &hdr, err))
		return -1;
	if (hdr.type != MTP_CONTAINER_COMMAND)
		return result_error_set(err, "type: %u where a command was expected", hdr.type);
	if (hdr.length != len)
		return result_error_set(err, "length: %u but the transfer has %zu bytes",
					hdr.length, len);
	if (len > MTP_COMMAND_MAX || (len - MTP_HEADER_SIZE) % 4)
		return result_error_set(err, "length: %zu is not a header and 0..5 parameters",
					len);
	op->code = hdr.code;
	op->transaction_id = hdr.transaction_id;
	op->num_params = (unsigned int)(len - MTP_HEADER_SIZE) / 4;
	for (i = 0; i < op->num_params; i++)
		op->params[i] = le32(buf + MTP_HEADER_SIZE + 4 * i);
	return 0;
}

static size_t encode_op(uint8_t *out, uint16_t type, const struct mtp_operation *op)
{
	unsigned int n = op->num_params, i;
	size_t len;

	if (n > MTP_MAX_PARAMS)
		n = MTP_MAX_PARAMS;
	len = MTP_HEADER_SIZE + 4 * (size_t)n;
	put32(out, (uint32_t)len);
	put16(out + 4, type);
	put16(out + 6, op->code);
	put32(out + 8, op->transaction_id);
	for (i = 0; i < n; i++)
		put32(out + MTP_HEADER_SIZE + 4 * i, op->params[i]);
	return len;
}

size_t mtp_container_encode_response(uint8_t out[MTP_COMMAND_MAX], const struct mtp_operation *resp)
{
	return encode_op(out, MTP_CONTAINER_RESPONSE, resp);
}

size_t mtp_container_encode_event(uint8_t out[MTP_COMMAND_MAX], const struct mtp_operation *event)
{
	return encode_op(out, MTP_CONTAINER_EVENT, event);
}

void mtp_container_encode_data_header(uint8_t out[MTP_HEADER_SIZE], uint16_t code,
				      uint32_t transaction_id, uint64_t payload_len)
{
	uint64_t total = payload_len + MTP_HEADER_SIZE;

	put32(out, total >= MTP_LENGTH_UNKNOWN ? MTP_LENGTH_UNKNOWN : (uint32_t)total);
	put16(out + 4, MTP_CONTAINER_DATA);
	put16(out + 6, code);
	put32(out + 8, transaction_id);
}

/* ---- building ---- */

void mtp_container_buf_free(struct mtp_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static uint8_t *reserve(struct mtp_buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *bigger;

		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return NULL;
			}
			cap *= 2;
		}
		bigger = realloc(b->data, cap);
		if (!bigger) {
			b->failed = true;
			return NULL;
		}
		b->data = bigger;
		b->cap = cap;
	}
	b->len += n;
	return b->data + b->len - n;
}

void mtp_container_put_bytes(struct mtp_buf *b, const void *p, size_t n)
{
	uint8_t *d = n ? reserve(b, n) : NULL;

	if (d)
		memcpy(d, p, n);
}

void mtp_container_put_u8(struct mtp_buf *b, uint8_t v)
{
	uint8_t *p = reserve(b, 1);

	if (p)
		*p = v;
}

void mtp_container_put_u16(struct mtp_buf *b, uint16_t v)
{
	uint8_t *p = reserve(b, 2);

	if (p)
		put16(p, v);
}

void mtp_container_put_u32(struct mtp_buf *b, uint32_t v)
{
	uint8_t *p = reserve(b, 4);

	if (p)
		put32(p, v);
}

void mtp_container_put_u64(struct mtp_buf *b, uint64_t v)
{
	mtp_container_put_u32(b, (uint32_t)v);
	mtp_container_put_u32(b, (uint32_t)(v >> 32));
}

void mtp_container_put_u128(struct mtp_buf *b, uint64_t lo, uint64_t hi)
{
	mtp_container_put_u64(b, lo);
	mtp_container_put_u64(b, hi);
}

/* Decodes one UTF-8 sequence; invalid bytes become U+FFFD. Returns the bytes used. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return i;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		c = 0xfffd;
	*cp = c;
	return n;
}

void mtp_container_put_string(struct mtp_buf *b, const char *utf8)
{
	uint16_t units[MTP_STRING_MAX];
	size_t n = 0, i;
	const unsigned char *s = (const unsigned char *)(utf8 ? utf8 : "");

	/* Room for the terminator; an over-long string is cut at a whole character. */
	while (*s) {
		uint32_t cp;
		size_t used = utf8_next(s, &cp);

		if (cp >= 0x10000) {
			if (n + 2 > MTP_STRING_MAX - 1)
				break;
			cp -= 0x10000;
			units[n++] = (uint16_t)(0xd800 | (cp >> 10));
			units[n++] = (uint16_t)(0xdc00 | (cp & 0x3ff));
		} else {
			if (n + 1 > MTP_STRING_MAX - 1)
				break;
			units[n++] = (uint16_t)cp;
		}
		s += used;
	}
	if (n == 0) {
		mtp_container_put_u8(b, 0);
		return;
	}
	units[n++] = 0;
	mtp_container_put_u8(b, (uint8_t)n);
	for (i = 0; i < n; i++)
		mtp_container_put_u16(b, units[i]);
}

void mtp_container_put_u16_array(struct mtp_buf *b, const uint16_t *v, size_t n)
{
	size_t i;

	mtp_container_put_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++)
		mtp_container_put_u16(b, v[i]);
}

void mtp_container_put_u32_array(struct mtp_buf *b, const uint32_t *v, size_t n)
{
	size_t i;

	mtp_container_put_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++)
		mtp_container_put_u32(b, v[i]);
}

void mtp_container_patch_u32(struct mtp_buf *b, size_t offset, uint32_t v)
{
	if (!b->failed && offset + 4 <= b->len)
		put32(b->data + offset, v);
}

/* ---- reading ---- */

void mtp_container_reader_init(struct mtp_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->failed = false;
	r->field = NULL;
}

static const uint8_t *take(struct mtp_reader *r, size_t n, const char *field)
{
	if (r->failed)
		return NULL;
	if (r->len - r->off < n) {
		r->failed = true;
		r->field = field;
		return NULL;
	}
	r->off += n;
	return r->p + r->off - n;
}

uint8_t mtp_container_get_u8(struct mtp_reader *r, const char *field)
{
	const uint8_t *p = take(r, 1, field);

	return p ? *p : 0;
}

uint16_t mtp_container_get_u16(struct mtp_reader *r, const char *field)
{
	const uint8_t *p = take(r, 2, field);

	return p ? le16(p) : 0;
}

uint32_t mtp_container_get_u32(struct mtp_reader *r, const char *field)
{
	const uint8_t *p = take(r, 4, field);

	return p ? le32(p) : 0;
}

uint64_t mtp_container_get_u64(struct mtp_reader *r, const char *field)
{
	uint64_t lo = mtp_container_get_u32(r, field);

	return lo | (uint64_t)mtp_container_get_u32(r, field) << 32;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

void mtp_container_get_string(struct mtp_reader *r, char *out, size_t cap, const char *field)
{
	uint8_t n = mtp_container_get_u8(r, field);
	const uint8_t *p;
	size_t o = 0, i;

	if (cap)
		out[0] = 0;
	if (r->failed || n == 0)
		return;
	p = take(r, 2u * n, field);
	if (!p)
		return;
	for (i = 0; i < n; i++) {
		uint32_t cp = le16(p + 2 * i);
		char tmp[4];
		size_t len;

		if (cp == 0) {
			if (i != (size_t)n - 1U)
				break; /* a NUL inside the string */
			if (o < cap)
				out[o] = 0;
			return;
		}
		if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < n) {
			uint32_t lo = le16(p + 2 * (i + 1));

			if (lo < 0xdc00 || lo >= 0xe000)
				break;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i++;
		} else if (cp >= 0xd800 && cp < 0xe000) {
			break;
		}
		len = utf8_put(tmp, cp);
		if (o + len + 1 > cap)
			break;
		memcpy(out + o, tmp, len);
		o += len;
	}
	r->failed = true;
	r->field = field;
	if (cap)
		out[0] = 0;
}

/* ---- typed datasets ---- */

int mtp_container_decode_object_info(const uint8_t *buf, size_t len, struct mtp_object_info *info,
				     struct usbip_error *err)
{
	struct mtp_reader r;
	char scratch[MTP_NAME_MAX];
	int i;

	memset(info, 0, sizeof(*info));
	mtp_container_reader_init(&r, buf, len);
	info->storage_id = mtp_container_get_u32(&r, "StorageID");
	info->format = mtp_container_get_u16(&r, "ObjectFormat");
	info->protection = mtp_container_get_u16(&r, "ProtectionStatus");
	info->compressed_size = mtp_container_get_u32(&r, "ObjectCompressedSize");
	mtp_container_get_u16(&r, "ThumbFormat");
	for (i = 0; i < 6; i++) /* thumb size, thumb w/h, image w/h, bit depth */
		mtp_container_get_u32(&r, "thumb/image fields");
	info->parent = mtp_container_get_u32(&r, "ParentObject");
	info->association_type = mtp_container_get_u16(&r, "AssociationType");
	mtp_container_get_u32(&r, "AssociationDesc");
	mtp_container_get_u32(&r, "SequenceNumber");
	mtp_container_get_string(&r, info->filename, sizeof(info->filename), "Filename");
	/* The dates and keywords are optional in practice: some initiators stop here. */
	if (!r.failed && r.off < r.len)
		mtp_container_get_string(&r, scratch, sizeof(scratch), "CaptureDate");
	if (!r.failed && r.off < r.len)
		mtp_container_get_string(&r, info->modified, sizeof(info->modified),
					 "ModificationDate");
	if (r.failed)
		return result_error_set(err, "ObjectInfo: %s is truncated or malformed", r.field);
	return 0;
}

void mtp_container_encode_object_info(struct mtp_buf *b, const struct mtp_object_info *info)
{
	int i;

	mtp_container_put_u32(b, info->storage_id);
	mtp_container_put_u16(b, info->format);
	mtp_container_put_u16(b, info->protection);
	mtp_container_put_u32(b, info->compressed_size);
	mtp_container_put_u16(b, 0); /* no thumbnail */
	for (i = 0; i < 6; i++)
		mtp_container_put_u32(b, 0);
	mtp_container_put_u32(b, info->parent);
	mtp_container_put_u16(b, info->association_type);
	mtp_container_put_u32(b, 0); /* AssociationDesc */
	mtp_container_put_u32(b, 0); /* SequenceNumber */
	mtp_container_put_string(b, info->filename);
	mtp_container_put_string(b, info->modified); /* CaptureDate: the best we know */
	mtp_container_put_string(b, info->modified);
	mtp_container_put_string(b, ""); /* Keywords */
}

void mtp_container_encode_device_info(struct mtp_buf *b, const struct mtp_device_info *info)
{
	mtp_container_put_u16(b, 100); /* StandardVersion 1.00 */
	mtp_container_put_u32(b, 6);   /* VendorExtensionID: Microsoft, i.e. MTP */
	mtp_container_put_u16(b, 100); /* VendorExtensionVersion */
	mtp_container_put_string(b, info->extensions);
	mtp_container_put_u16(b, 0); /* FunctionalMode: standard */
	mtp_container_put_u16_array(b, info->operations, info->num_operations);
	mtp_container_put_u16_array(b, info->events, info->num_events);
	mtp_container_put_u16_array(b, info->device_props, info->num_device_props);
	mtp_container_put_u16_array(b, NULL, 0); /* CaptureFormats */
	mtp_container_put_u16_array(b, info->formats, info->num_formats);
	mtp_container_put_string(b, info->manufacturer);
	mtp_container_put_string(b, info->model);
	mtp_container_put_string(b, info->version);
	mtp_container_put_string(b, info->serial);
}

void mtp_container_encode_storage_info(struct mtp_buf *b, const struct mtp_storage_info *info)
{
	mtp_container_put_u16(b, 0x0003); /* StorageType: fixed RAM */
	mtp_container_put_u16(b, 0x0002); /* FilesystemType: generic hierarchical */
	mtp_container_put_u16(b, info->read_only ? 0x0001 : 0x0000);
	mtp_container_put_u64(b, info->capacity);
	mtp_container_put_u64(b, info->free_bytes);
	mtp_container_put_u32(b, 0xffffffff); /* FreeSpaceInObjects: not used */
	mtp_container_put_string(b, info->description);
	mtp_container_put_string(b, info->volume);
}

void mtp_container_put_value(struct mtp_buf *b, const struct mtp_value *v)
{
	switch (v->type) {
	case PTP_DTC_UINT8:
		mtp_container_put_u8(b, (uint8_t)v->u);
		break;
	case PTP_DTC_UINT16:
		mtp_container_put_u16(b, (uint16_t)v->u);
		break;
	case PTP_DTC_UINT32:
		mtp_container_put_u32(b, (uint32_t)v->u);
		break;
	case PTP_DTC_UINT64:
		mtp_container_put_u64(b, v->u);
		break;
	case PTP_DTC_UINT128:
		mtp_container_put_u128(b, v->u, v->hi);
		break;
	default:
		mtp_container_put_string(b, v->str);
		break;
	}
}

void mtp_container_encode_object_prop_desc(struct mtp_buf *b, uint16_t prop,
					   const struct mtp_value *def, bool settable,
					   uint32_t group)
{
	mtp_container_put_u16(b, prop);
	mtp_container_put_u16(b, def->type);
	mtp_container_put_u8(b, settable ? 1 : 0);
	mtp_container_put_value(b, def);
	mtp_container_put_u32(b, group);
	mtp_container_put_u8(b, 0); /* FormFlag: none */
}

void mtp_container_encode_device_prop_desc(struct mtp_buf *b, uint16_t prop,
					   const struct mtp_value *def,
					   const struct mtp_value *current, bool settable,
					   const struct mtp_value *range)
{
	mtp_container_put_u16(b, prop);
	mtp_container_put_u16(b, def->type);
	mtp_container_put_u8(b, settable ? 1 : 0);
	mtp_container_put_value(b, def);
	mtp_container_put_value(b, current);
	if (!range) {
		mtp_container_put_u8(b, 0); /* FormFlag: none */
		return;
	}
	mtp_container_put_u8(b, 1); /* FormFlag: range */
	mtp_container_put_value(b, &range[0]);
	mtp_container_put_value(b, &range[1]);
	mtp_container_put_value(b, &range[2]);
}

void mtp_container_put_prop_element(struct mtp_buf *b, uint32_t handle, uint16_t prop,
				    const struct mtp_value *v)
{
	mtp_container_put_u32(b, handle);
	mtp_container_put_u16(b, prop);
	mtp_container_put_u16(b, v->type);
	mtp_container_put_value(b, v);
}

/* Bytes of one integer of data type t (0: not an integer type). */
static size_t int_size(uint16_t t)
{
	switch (t) {
	case PTP_DTC_INT8:
	case PTP_DTC_UINT8:
		return 1;
	case 0x0003: /* INT16 */
	case PTP_DTC_UINT16:
		return 2;
	case 0x0005: /* INT32 */
	case PTP_DTC_UINT32:
		return 4;
	case 0x0007: /* INT64 */
	case PTP_DTC_UINT64:
		return 8;
	case 0x0009: /* INT128 */
	case PTP_DTC_UINT128:
		return 16;
	}
	return 0;
}

/* Steps over one value of type t; false if t is no type or the value is cut short. */
static bool skip_value(struct mtp_reader *r, uint16_t t)
{
	char scratch[MTP_NAME_MAX];
	size_t n = int_size(t);

	if (t == PTP_DTC_STR) {
		mtp_container_get_string(r, scratch, sizeof(scratch), "a string value");
		return !r->failed;
	}
	if (n) {
		take(r, n, "an integer value");
		return !r->failed;
	}
	n = (t & PTP_DTC_ARRAY) ? int_size(t & ~PTP_DTC_ARRAY) : 0;
	if (n) {
		uint32_t count = mtp_container_get_u32(r, "an array's count");

		/* Checked against what is left before anything is read: a lying count fails here.
		 */
		if (r->failed || count > (r->len - r->off) / n) {
			r->failed = true;
			r->field = "an array's count";
			return false;
		}
		take(r, count * n, "an array");
		return !r->failed;
	}
	r->failed = true;
	r->field = "a data type";
	return false;
}

int mtp_container_decode_send_prop_list(const uint8_t *buf, size_t len,
					struct mtp_prop_list_info *info, uint32_t *failed_index,
					struct usbip_error *err)
{
	struct mtp_reader r;
	uint32_t i;

	memset(info, 0, sizeof(*info));
	*failed_index = 0;
	mtp_container_reader_init(&r, buf, len);
	info->count = mtp_container_get_u32(&r, "NumberOfElements");
	if (r.failed)
		return result_error_set(err, "ObjectPropList: no element count");
	/* Each element takes 8 bytes or more: the loop ends with the data, whatever the count says.
	 */
	for (i = 0; i < info->count; i++) {
		uint16_t prop, type;

		*failed_index = i;
		mtp_container_get_u32(&r, "ObjectHandle");
		prop = mtp_container_get_u16(&r, "PropertyCode");
		type = mtp_container_get_u16(&r, "Datatype");
		if (r.failed)
			return result_error_set(err,
						"ObjectPropList: element %u of %u: %s is missing",
						i, info->count, r.field);
		if ((prop == MTP_OPC_ObjectFileName || prop == MTP_OPC_DateModified) &&
		    type != PTP_DTC_STR)
			return result_error_set(
				err, "ObjectPropList: element %u: property 0x%04x of type 0x%04x",
				i, prop, type);
		if (prop == MTP_OPC_ObjectFileName)
			mtp_container_get_string(&r, info->filename, sizeof(info->filename),
						 "ObjectFileName");
		else if (prop == MTP_OPC_DateModified)
			mtp_container_get_string(&r, info->modified, sizeof(info->modified),
						 "DateModified");
		else
			skip_value(&r, type);
		if (r.failed)
			return result_error_set(err,
						"ObjectPropList: element %u of %u: %s is malformed",
						i, info->count, r.field);
	}
	if (r.off != r.len)
		return result_error_set(err, "ObjectPropList: %zu bytes after the last element",
					r.len - r.off);
	if (!info->filename[0]) {
		*failed_index = 0; /* missing, not wrong: no element to name */
		return result_error_set(err, "ObjectPropList: no ObjectFileName");
	}
	return 0;
}

int mtp_container_decode_u32_array(const uint8_t *buf, size_t len, uint32_t *count,
				   struct usbip_error *err)
{
	struct mtp_reader r;

	mtp_container_reader_init(&r, buf, len);
	*count = mtp_container_get_u32(&r, "count");
	if (r.failed)
		return result_error_set(err, "array: no count");
	if (*count != (len - 4) / 4 || (len - 4) % 4)
		return result_error_set(err, "array: %u elements announced, %zu bytes follow",
					*count, len - 4);
	return 0;
}

/* ---- Microsoft OS descriptors 1.0 ---- */

void mtp_container_encode_ms_compat_id(struct mtp_buf *b, uint8_t first_interface,
				       const char *compatible_id)
{
	uint8_t id[8] = { 0 }, zero[8] = { 0 };
	size_t n = strlen(compatible_id);

	memcpy(id, compatible_id, n < sizeof(id) ? n : sizeof(id));
	/* header */
	mtp_container_put_u32(b, MTP_MS_COMPAT_ID_HEADER + 24); /* dwLength */
	mtp_container_put_u16(b, 0x0100);			/* bcdVersion 1.00 */
	mtp_container_put_u16(b, MTP_MS_COMPAT_ID_INDEX);	/* wIndex */
	mtp_container_put_u8(b, 1);				/* bCount: function sections */
	mtp_container_put_bytes(b, zero, 7);
	/* the function section */
	mtp_container_put_u8(b, first_interface);
	mtp_container_put_u8(b, 0x01); /* reserved, "set to 0x01" */
	mtp_container_put_bytes(b, id, sizeof(id));
	mtp_container_put_bytes(b, zero, 8); /* subCompatibleID: none */
	mtp_container_put_bytes(b, zero, 6);
}

void mtp_container_encode_ms_ext_props(struct mtp_buf *b)
{
	mtp_container_put_u32(b, MTP_MS_EXT_PROPS_HEADER); /* dwLength */
	mtp_container_put_u16(b, 0x0100);		   /* bcdVersion 1.00 */
	mtp_container_put_u16(b, MTP_MS_EXT_PROPS_INDEX);  /* wIndex */
	mtp_container_put_u16(b, 0);			   /* wCount: no custom property sections */
}
