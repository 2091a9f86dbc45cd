/* fuzz_proto.c — worker frames (proto.c): a stream of bytes cut into frames
 * as the driver's reader does. A frame never claims more than the bytes it
 * was given, a partial frame is 0, a corrupt header -1; re-encoding a parsed
 * frame gives back the same bytes. */
#include "fuzz_common.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t left = size;
    tc_buf again;
    tc_buf_init(&again);
    for (;;) {
        tc_frame f;
        long used = tc_frame_parse(p, left, &f);
        if (used <= 0)
            break;
        FUZZ_ASSERT((size_t)used <= left);
        FUZZ_ASSERT((size_t)used == TC_FRAME_HEADER + f.len);
        FUZZ_ASSERT(f.len <= TC_FRAME_MAX);
        FUZZ_ASSERT(f.len == 0 || f.payload == p + TC_FRAME_HEADER);
        tc_buf_clear(&again);
        if (tc_frame_append_flags(&again, f.type, f.flags, f.token, f.payload, f.len) == 0) {
            FUZZ_ASSERT(again.len == (size_t)used);
            FUZZ_ASSERT(memcmp(again.data, p, (size_t)used) == 0);
        }
        p += used;
        left -= (size_t)used;
    }
    tc_buf_free(&again);
    return 0;
}
