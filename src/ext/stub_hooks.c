/* stub_hooks.c — placeholder exec hooks; each is removed when its file lands. */
#include "tcx.h"
