/* proto.c — framing of driver/worker messages (see proto.h). */
#include <string.h>
#include "proto.h"

int tc_frame_append(tc_buf *out, uint16_t type, int32_t token, const void *payload, size_t len)
{
    return tc_frame_append_flags(out, type, 0, token, payload, len);
}

int tc_frame_append_flags(tc_buf *out, uint16_t type, uint16_t flags, int32_t token,
                          const void *payload, size_t len)
{
    char header[TC_FRAME_HEADER];
    uint32_t len32 = (uint32_t)len;
    if (len > TC_FRAME_MAX)
        return -1;
    memcpy(header, &len32, 4);
    memcpy(header + 4, &type, 2);
    memcpy(header + 6, &flags, 2);
    memcpy(header + 8, &token, 4);
    if (tc_buf_reserve(out, TC_FRAME_HEADER + len) < 0)
        return -1;
    tc_buf_append(out, header, TC_FRAME_HEADER);
    if (len)
        tc_buf_append(out, payload, len);
    return 0;
}

long tc_frame_parse(const char *data, size_t len, tc_frame *out)
{
    if (len < TC_FRAME_HEADER)
        return 0;
    memcpy(&out->len, data, 4);
    memcpy(&out->type, data + 4, 2);
    memcpy(&out->flags, data + 6, 2);
    memcpy(&out->token, data + 8, 4);
    if (out->len > TC_FRAME_MAX || out->type == 0)
        return -1;
    if (len < TC_FRAME_HEADER + (size_t)out->len)
        return 0;
    out->payload = data + TC_FRAME_HEADER;
    return (long)(TC_FRAME_HEADER + out->len);
}
