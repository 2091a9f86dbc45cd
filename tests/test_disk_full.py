"""Issue 15 item 4: a run whose local_dir fills up or turns read-only stops
with a TuneError naming the file it could not write; what it wrote before
stays whole (every result.json line and the experiment state parse), and a
resume finishes the run once the disk has room again.

The disk is a small tmpfs mounted for the test when this machine allows it
(root); otherwise RLIMIT_FSIZE stands in for a full disk and a directory
without write permission for a read-only one (both chosen at run time). The
runs are separate processes (tests/disk_driver.py)."""
import glob
import json
import os
import subprocess
import sys

import pytest

from run_helpers import HANG_S, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "disk_driver.py")
SMALL = 2 * 1024 * 1024


def _mount(path, options):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def _remount(path, options):
    subprocess.run(["mount", "-o", "remount," + options, str(path)], check=True,
                   capture_output=True)


class Disk:
    """A small disk at `path`: a tmpfs when mounting is allowed, else a plain
    directory with RLIMIT_FSIZE (full) and chmod (read-only)."""

    def __init__(self, path):
        self.path = path
        path.mkdir()
        self.mounted = os.geteuid() == 0 and _mount(path, "size={}".format(SMALL))
        self.layers = 0     # read-only bind mounts over the tmpfs

    def env(self):
        env = dict(os.environ)
        if not self.mounted:
            env["TUNEC_DISK_FSIZE"] = str(SMALL // 4)
        return env

    def make_read_only(self):
        if self.mounted:
            # Linux refuses to remount a file system read-only while files on
            # it are open for writing (the run's sinks are), so a read-only
            # bind mount goes over it: every file opened from now on (the
            # experiment state, a new trial's files) is on a read-only disk.
            subprocess.run(["mount", "--bind", str(self.path), str(self.path)], check=True,
                           capture_output=True)
            _remount(self.path, "bind,ro")
            self.layers += 1
        else:
            for root, dirs, files in os.walk(self.path):
                os.chmod(root, 0o555)
                for name in files:
                    os.chmod(os.path.join(root, name), 0o444)

    def make_room(self):
        """Room again: a bigger, writable tmpfs, or no limit and no chmod."""
        if self.mounted:
            while self.layers:
                subprocess.run(["umount", str(self.path)], check=True, capture_output=True)
                self.layers -= 1
            _remount(self.path, "rw,size=64m")
        else:
            for root, dirs, files in os.walk(self.path):
                os.chmod(root, 0o755)
                for name in files:
                    os.chmod(os.path.join(root, name), 0o644)

    def close(self):
        if self.mounted:
            for _ in range(self.layers + 1):
                subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


@pytest.fixture
def disk(tmp_path):
    d = Disk(tmp_path / "disk")
    yield d
    d.close()


def _run(disk, rows, *extra, env=None, wait=True):
    args = [sys.executable, DRIVER, str(disk.path), str(rows)] + list(extra)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or dict(os.environ), cwd=HERE)
    if not wait:
        return proc
    return _finish(proc)


def _finish(proc):
    out, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode == 0, "the driver died ({}):\n{}".format(proc.returncode, err[-4000:])
    return json.loads(out.strip().splitlines()[-1])


def _assert_whole(disk):
    """Everything the run wrote parses: no torn or junk line anywhere."""
    exp = os.path.join(str(disk.path), "exp")
    results = glob.glob(os.path.join(exp, "*", "result.json"))
    assert results
    for path in results:
        with open(path, "rb") as f:
            for line in f.read().splitlines():
                json.loads(line)
    for path in glob.glob(os.path.join(exp, "experiment_state-*.json")):
        with open(path) as f:
            json.load(f)
    for path in glob.glob(os.path.join(exp, "experiment_state-*.journal")):
        with open(path, "rb") as f:
            for line in f.read().splitlines():
                json.loads(line)


def _assert_storage_error(out, disk, why):
    assert out["outcome"] == "error", out
    assert out["type"] in ("TuneError", "TrialsFailedError"), out
    assert str(disk.path) in out["message"], out
    assert any(w in out["message"] for w in why), out


def test_a_full_disk_stops_the_run_and_resume_finishes_it(disk):
    # ~6 KB a row over three files: 600 rows are far more than 2 MB holds.
    out = _run(disk, 600, env=disk.env())
    _assert_storage_error(out, disk, ("No space left", "too large"))
    _assert_whole(disk)
    disk.make_room()
    out = _run(disk, 600, "resume")
    assert out == {"outcome": "ok", "status": ["TERMINATED"], "last_i": [599]}, out
    _assert_whole(disk)


def test_a_read_only_disk_stops_the_run_and_resume_finishes_it(disk, tmp_path):
    hold = tmp_path / "hold"
    hold.mkdir()
    proc = _run(disk, 40, "hold", str(hold), wait=False)
    wait_for(lambda: (hold / "held").exists(), "the fifth row", proc=proc)
    disk.make_read_only()
    (hold / "release").touch()
    out = _finish(proc)
    _assert_storage_error(out, disk, ("Read-only", "Permission denied"))
    _assert_whole(disk)
    disk.make_room()
    (hold / "release").unlink()
    (hold / "held").unlink()
    os.rmdir(hold)      # no hold in the resumed run
    out = _run(disk, 40, "resume")
    assert out == {"outcome": "ok", "status": ["TERMINATED"], "last_i": [39]}, out
    _assert_whole(disk)
