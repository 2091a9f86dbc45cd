"""Driver of tests/test_garbage_files.py, run in its own process so that a
crash (a signal) or a hang is seen as such instead of taking pytest down.

    python garbage_driver.py make LOCAL_DIR      an experiment whose trials
                                                 errored after checkpoints
    python garbage_driver.py analysis EXP_DIR    load it, build the frames
    python garbage_driver.py resume LOCAL_DIR    resume its errored trials

Prints one JSON line: {"outcome": "ok"|"error", "type", "message",
"warnings", ...}. Any exception is reported, not raised: the test judges
whether it was a clear one."""
import json
import os
import sys
import warnings
import logging

import tunec as tune

EXP_NAME = "exp"


class Counter(tune.Trainable):
    """Counts to 4; with TUNEC_GARBAGE_FAIL set it fails at step 3, after
    checkpoints 1 and 2, so a resume has errored trials to restore."""

    def setup(self, config):
        self.count = 0

    def step(self):
        self.count += 1
        if self.count == 3 and os.environ.get("TUNEC_GARBAGE_FAIL"):
            raise RuntimeError("planned failure")
        return {"acc": self.count * self.config["x"], "done": self.count >= 4}

    def save_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "count"), "w") as f:
            f.write(str(self.count))
        return checkpoint_dir

    def load_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "count")) as f:
            self.count = int(f.read())


def _run(local_dir, **kw):
    return tune.run(Counter, name=EXP_NAME, local_dir=local_dir,
                    config={"x": tune.grid_search([1, 2])}, checkpoint_freq=1,
                    verbose=0, raise_on_failed_trial=False, **kw)


def main(mode, path):
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logging.getLogger().addHandler(handler)
    out = {"outcome": "ok"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if mode == "make":
                os.environ["TUNEC_GARBAGE_FAIL"] = "1"
                _run(path)
            elif mode == "analysis":
                analysis = tune.ExperimentAnalysis(path)
                frame = analysis.dataframe()
                out["rows"] = len(frame)
                out["trial_rows"] = {k: len(v) for k, v in analysis.trial_dataframes.items()}
                out["configs"] = len(analysis.get_all_configs())
            elif mode == "resume":
                analysis = _run(path, resume=True, resume_errored=True)
                out["status"] = sorted(t.status for t in analysis.trials)
            else:
                raise SystemExit("unknown mode " + mode)
        except Exception as e:   # judged by the test: clear or not
            out = {"outcome": "error", "type": type(e).__name__, "message": str(e)[:2000],
                   "is_tune_error": isinstance(e, tune.TuneError)}
    out["warnings"] = [str(w.message)[:500] for w in caught] + [r[:500] for r in records]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
