/* wire.h — every code that crosses a boundary, named once.
 *
 * Frame types and flags (driver <-> worker, proto.h), trial statuses, the
 * runner's decision for the executor, scheduler events, scheduler
 * decisions and a host scheduler's actions, local mode's answer to a
 * frame, and the runner's actions for an executor. Each list is an X-macro of (C name, Python name, value): the C
 * enums below are made from it, and the extension exports the same list as
 * module constants of tunec._tunec (src/ext/wire_ext.c), so Python code
 * reads `_tunec.DECISION_STOP` instead of mirroring a number
 * (tests/test_wire_codes.py checks both).
 *
 * Values are part of the worker protocol and of the callbacks' contract:
 * change one only together with every reader. */
#ifndef TUNEC_WIRE_H
#define TUNEC_WIRE_H

/* Frame types (proto.h documents each payload). Worker -> driver below 16,
 * driver -> worker from 16. */
#define TC_WIRE_FRAME_TYPES(X)                                                 \
    X(TC_MSG_HELLO, "MSG_HELLO", 1)                                           \
    X(TC_MSG_RESULT, "MSG_RESULT", 2)                                         \
    X(TC_MSG_DONE, "MSG_DONE", 3)                                             \
    X(TC_MSG_ERROR, "MSG_ERROR", 4)                                           \
    X(TC_MSG_READY, "MSG_READY", 5)                                           \
    X(TC_MSG_CHECKPOINT, "MSG_CHECKPOINT", 6)                                 \
    X(TC_MSG_HEARTBEAT, "MSG_HEARTBEAT", 7)                                   \
    X(TC_MSG_TRAINABLE, "MSG_TRAINABLE", 16)                                  \
    X(TC_MSG_OBJECTS, "MSG_OBJECTS", 17)                                      \
    X(TC_MSG_START, "MSG_START", 18)                                          \
    X(TC_MSG_STOP, "MSG_STOP", 19)                                            \
    X(TC_MSG_EXIT, "MSG_EXIT", 20)                                            \
    X(TC_MSG_CONTINUE, "MSG_CONTINUE", 21)

/* Frame flags (the header's flags field; each meaningful for one type). */
#define TC_WIRE_FRAME_FLAGS(X)                                                 \
    /* STOP: save a checkpoint before ending (a pause, Ctrl-C) */             \
    X(TC_FLAG_STOP_SAVE, "FLAG_STOP_SAVE", 1)                                 \
    /* CONTINUE: save a checkpoint before the next step (PBT) */              \
    X(TC_FLAG_CONTINUE_SAVE, "FLAG_CONTINUE_SAVE", 1)                         \
    /* RESULT: the sender waits for CONTINUE or STOP (class trainables) */    \
    X(TC_FLAG_RESULT_ANSWER, "FLAG_RESULT_ANSWER", 2)

/* Trial statuses (tc_status; tc_status_names in the same order). */
#define TC_WIRE_STATUSES(X)                                                    \
    X(TC_PENDING, "STATUS_PENDING", 0)                                        \
    X(TC_RUNNING, "STATUS_RUNNING", 1)                                        \
    X(TC_PAUSED, "STATUS_PAUSED", 2)                                          \
    X(TC_TERMINATED, "STATUS_TERMINATED", 3)                                  \
    X(TC_ERROR, "STATUS_ERROR", 4)

/* What the executor does with a trial's worker after a result (tc_decision,
 * runner.h explains each). */
#define TC_WIRE_DECISIONS(X)                                                   \
    X(TC_CONTINUE, "DECISION_CONTINUE", 0)                                    \
    X(TC_STOP, "DECISION_STOP", 1)                                            \
    X(TC_PAUSE, "DECISION_PAUSE", 2)                                          \
    X(TC_RESTART, "DECISION_RESTART", 3)                                      \
    X(TC_SAVE, "DECISION_SAVE", 4)

/* Scheduler and searcher events (host.sched_event, host.search_event). */
#define TC_WIRE_EVENTS(X)                                                      \
    X(TC_EV_ADD, "EVENT_ADD", 0)                                              \
    X(TC_EV_RESULT, "EVENT_RESULT", 1)                                        \
    X(TC_EV_COMPLETE, "EVENT_COMPLETE", 2)                                    \
    X(TC_EV_ERROR, "EVENT_ERROR", 3)                                          \
    X(TC_EV_REMOVE, "EVENT_REMOVE", 4)                                        \
    X(TC_EV_PAUSE, "EVENT_PAUSE", 5)                                          \
    X(TC_EV_UNPAUSE, "EVENT_UNPAUSE", 6)

/* A scheduler's decision on a result (TrialScheduler.CONTINUE ...). */
#define TC_WIRE_SCHED_DECISIONS(X)                                             \
    X(TC_SCHED_CONTINUE, "SCHED_CONTINUE", 0)                                 \
    X(TC_SCHED_PAUSE, "SCHED_PAUSE", 1)                                       \
    X(TC_SCHED_STOP, "SCHED_STOP", 2)                                         \
    X(TC_SCHED_NOOP, "SCHED_NOOP", 3)

/* What a host scheduler does to another trial (sched.h). */
#define TC_WIRE_SCHED_ACTS(X)                                                  \
    X(TC_SCHED_ACT_STOP, "SCHED_ACT_STOP", 1)                                 \
    X(TC_SCHED_ACT_UNPAUSE, "SCHED_ACT_UNPAUSE", 2)

/* Local mode's answer to a frame (Run.local_frame, worker_session.c). */
#define TC_WIRE_LOCAL_ANSWERS(X)                                               \
    X(TC_LOCAL_GO_ON, "LOCAL_GO_ON", 0)                                       \
    X(TC_LOCAL_STOP, "LOCAL_STOP", 1)                                         \
    X(TC_LOCAL_STOP_SAVE, "LOCAL_STOP_SAVE", 2)                               \
    X(TC_LOCAL_GO_ON_SAVE, "LOCAL_GO_ON_SAVE", 3)

/* The runner's actions for an executor (runner_actions.h): what to do with
 * an attempt. START runs it; STOP ends it; PAUSE ends it after a
 * checkpoint; SAVE takes a checkpoint and goes on; RESTORE ends it without
 * one, as its trial restarts from a checkpoint the runner put in place (a
 * PBT exploit). */
#define TC_WIRE_ACTIONS(X)                                                     \
    X(TC_ACT_START, "ACTION_START", 1)                                        \
    X(TC_ACT_STOP, "ACTION_STOP", 2)                                          \
    X(TC_ACT_PAUSE, "ACTION_PAUSE", 3)                                        \
    X(TC_ACT_SAVE, "ACTION_SAVE", 4)                                          \
    X(TC_ACT_RESTORE, "ACTION_RESTORE", 5)

/* Every list, for a table of them all. */
#define TC_WIRE_ALL(X)                                                         \
    TC_WIRE_FRAME_TYPES(X) TC_WIRE_FRAME_FLAGS(X) TC_WIRE_STATUSES(X)         \
    TC_WIRE_DECISIONS(X) TC_WIRE_EVENTS(X) TC_WIRE_SCHED_DECISIONS(X)         \
    TC_WIRE_SCHED_ACTS(X) TC_WIRE_LOCAL_ANSWERS(X) TC_WIRE_ACTIONS(X)

#define TC_WIRE_ENUMERATOR(cname, pyname, value) cname = value,

enum { TC_WIRE_FRAME_TYPES(TC_WIRE_ENUMERATOR) };
enum { TC_WIRE_FRAME_FLAGS(TC_WIRE_ENUMERATOR) };
typedef enum { TC_WIRE_STATUSES(TC_WIRE_ENUMERATOR) } tc_status;
typedef enum { TC_WIRE_DECISIONS(TC_WIRE_ENUMERATOR) } tc_decision;
enum { TC_WIRE_EVENTS(TC_WIRE_ENUMERATOR) };
enum { TC_WIRE_SCHED_DECISIONS(TC_WIRE_ENUMERATOR) };
enum { TC_WIRE_SCHED_ACTS(TC_WIRE_ENUMERATOR) };
enum { TC_WIRE_LOCAL_ANSWERS(TC_WIRE_ENUMERATOR) };
typedef enum { TC_WIRE_ACTIONS(TC_WIRE_ENUMERATOR) } tc_action_kind;

#endif
