"""Local mode (spec §15.3): trials run in the driver process, one at a time,
on the main thread — for debuggers and print statements. Frames from the
in-process session go straight to the engine through ``Run.local_frame``."""
import platform

from tunec._execute import run_trial


def run_local(runner):
    from tunec import _tunec
    handle = runner.run_handle
    while True:
        start = handle.local_start()
        if start is None:
            if handle.is_finished():
                return
            raise RuntimeError("local mode: no trial can start and the experiment is not "
                               "finished")
        session = _tunec.Session(-1, platform.node(), "127.0.0.1", handle.local_frame)
        trainable = runner.trainables[start["trainable"]]
        try:
            run_trial(session, start, trainable, runner.objects, local=True)
        except KeyboardInterrupt:
            # The interrupted trial stays resumable (PENDING in the state).
            handle.interrupt()
            handle.local_frame(_tunec.MSG_READY, start["attempt"], b"")
            raise
        handle.local_frame(_tunec.MSG_READY, start["attempt"], b"")
        if runner.stopper is not None and runner.stopper.stop_all():
            handle.stop_all()
        runner._report()
