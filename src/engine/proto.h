/* proto.h — frames between the driver and its worker processes (DESIGN §3).
 *
 * A frame is a fixed 12-byte header (length, type, flags, attempt token)
 * in host byte order (both ends run on the same machine) followed by `len`
 * payload bytes. A trial's frames carry the token of the attempt they are
 * about (runner.h tc_token; the START message's "attempt"), so the driver
 * ignores those of an attempt that was replaced. Payloads are JSON text,
 * UTF-8 traceback text, or opaque cloudpickle bytes the engine never reads.
 *
 * Worker -> driver:
 *   HELLO   {"pid": .., "hostname": .., "node_ip": ..}     once, at start
 *   RESULT  one result dict, auto-filled by the worker (JSON)
 *   DONE    the function trainable returned (spec §3.2 duplicate marker)
 *   ERROR   traceback text: the trial failed
 *   READY   the worker finished its trial (normally or stopped) and is idle
 *   CHECKPOINT {"dir", "path", "iteration"}: a checkpoint was saved (paths
 *           relative to the trial's logdir)
 *   HEARTBEAT  the worker process is alive (sent by a C thread every second,
 *           whatever the trainable is doing)
 * Driver -> worker:
 *   TRAINABLE  cloudpickle of the trainable (sent once per worker)
 *   OBJECTS    cloudpickle of {id: object} for opaque config values
 *   START      {"trial_id", "trial_name", "logdir", "config", "attempt", ...}
 *   STOP       end the current trial at its next report; flags & 1: save a
 *              checkpoint first (Ctrl-C, so the trial can resume)
 *   EXIT       leave the process
 *   CONTINUE   go on with the next step (the answer to a RESULT sent with
 *              flags & 2, which class trainables use: Ray runs them one
 *              train() call at a time, so a stopped trial never overshoots
 *              the result that stopped it and its checkpoints match the log)
 */
#ifndef TUNEC_PROTO_H
#define TUNEC_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "tunec.h"
#include "wire.h"

/* Frame types TC_MSG_* and flags TC_FLAG_* are in wire.h. */

#define TC_FRAME_HEADER 12u
#define TC_FRAME_MAX (256u * 1024u * 1024u)   /* refuse absurd lengths */

typedef struct tc_frame {
    uint32_t len;      /* payload bytes */
    uint16_t type;     /* TC_MSG_* */
    uint16_t flags;    /* TC_FLAG_* of its type, else 0 */
    int32_t token;     /* the attempt a trial's frame is about (runner.h tc_token;
                          TRAINABLE: the trainable id), -1 for none */
    const char *payload;   /* borrowed: points into the parsed buffer */
} tc_frame;

/* Appends one frame to out. 0 / -1 (ENOMEM). */
int tc_frame_append(tc_buf *out, uint16_t type, int32_t token, const void *payload, size_t len);
/* The same with flags (STOP's checkpoint request). */
int tc_frame_append_flags(tc_buf *out, uint16_t type, uint16_t flags, int32_t token,
                          const void *payload, size_t len);
/* Parses the frame at the start of data. Returns the bytes it spans (header +
 * payload), 0 when data holds only part of a frame, -1 on a corrupt header. */
long tc_frame_parse(const char *data, size_t len, tc_frame *out);

#endif
