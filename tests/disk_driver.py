"""Driver of tests/test_disk_full.py: one tune.run into LOCAL_DIR, in its
own process (a filled disk must end the run, never the test session).

    python disk_driver.py LOCAL_DIR ROWS [resume] [hold DIR]

The trainable reports ROWS padded rows. With "hold DIR" it writes DIR/held
after its fifth row and waits for DIR/release (the test makes the disk
read-only in between). With TUNEC_DISK_FSIZE set, RLIMIT_FSIZE is that many
bytes (the fallback when no tmpfs can be mounted). Prints one JSON line."""
import json
import os
import resource
import signal
import sys
import time

import tunec as tune


def main(local_dir, rows, resume=False, hold=None):
    limit = os.environ.get("TUNEC_DISK_FSIZE")
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))

    def padded(config):
        for i in range(rows):
            if hold and i == 5:
                open(os.path.join(hold, "held"), "w").close()
                while not os.path.exists(os.path.join(hold, "release")):
                    time.sleep(0.05)
            tune.report(i=i, pad="x" * 2000)

    out = {"outcome": "ok"}
    try:
        analysis = tune.run(padded, name="exp", local_dir=local_dir, verbose=0,
                            resume=resume, raise_on_failed_trial=False)
        out["status"] = [t.status for t in analysis.trials]
        out["last_i"] = [t.last_result.get("i") for t in analysis.trials]
    except Exception as e:
        out = {"outcome": "error", "type": type(e).__name__, "message": str(e)[:2000]}
    print(json.dumps(out))


if __name__ == "__main__":
    args = sys.argv[1:]
    hold = args[args.index("hold") + 1] if "hold" in args else None
    main(args[0], int(args[1]), resume="resume" in args, hold=hold)
