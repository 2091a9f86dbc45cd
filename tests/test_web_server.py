"""The REST API of a running tune.run (spec §13, tunec/web_server.py): a real
run in a child process with real workers, driven with TuneClient and with raw
HTTP (http.client): bearer token from the 0600 file, 401 without it, no CORS,
JSON only, malformed requests refused with a status and a message."""
import http.client
import json
import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from tunec.error import TuneError
from tunec.web_server import TOKEN_FILE, TuneClient, TuneServer

DEADLINE_S = 180     # hang guards only: every wait is for an observable event

SCRIPT = textwrap.dedent("""
    import sys, time
    import tunec as tune

    def forever(config):
        # Reports until stopped (by the REST API); a bounded loop so a broken
        # test cannot leave it running.
        for i in range(20000):
            time.sleep(0.02)
            tune.report(it=i, x=config["x"])

    tune.init(num_cpus=4)
    trials = tune.run(forever, name="exp", local_dir=sys.argv[1], verbose=0,
                      config={"x": tune.grid_search([1, 2])}, with_server=True,
                      server_port=0, raise_on_failed_trial=False, return_trials=True)
    print("STATUSES", sorted((t.config["x"], t.status) for t in trials), flush=True)
""")


def wait_for(what, check):
    deadline = time.monotonic() + DEADLINE_S
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


@pytest.fixture
def served_run(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "results")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    exp_dir = tmp_path / "results" / "exp"
    token_file = exp_dir / TOKEN_FILE
    try:
        wait_for("the token file", lambda: token_file.exists() or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        # Written whole by a rename: readable JSON once it exists.
        info = json.loads(token_file.read_text())
        yield proc, exp_dir, info
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def raw(info, method, path, body=None, headers=None, token=True):
    """(status, headers, parsed JSON) of one raw HTTP request."""
    conn = http.client.HTTPConnection(info["host"], info["port"], timeout=60)
    try:
        hdrs = dict(headers or {})
        if token is True:
            hdrs["Authorization"] = "Bearer " + info["token"]
        elif token:
            hdrs["Authorization"] = token
        conn.request(method, path, body=body, headers=hdrs)
        response = conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), (json.loads(data) if data else None)
    finally:
        conn.close()


def statuses(client):
    return {t["id"]: t["status"] for t in client.get_all_trials()["trials"]}


def test_token_file_and_authentication(served_run):
    proc, exp_dir, info = served_run
    token_file = exp_dir / TOKEN_FILE
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert info["host"] == "127.0.0.1" and info["port"] > 0 and len(info["token"]) >= 32
    for token in (None, "Bearer wrong-token", "Basic " + info["token"], "Bearer",
                  "Bearer " + info["token"] + "x"):
        for method, path, body in (("GET", "/trials", None), ("PUT", "/stop_experiment", None),
                                   ("POST", "/trials", b"{}"), ("DELETE", "/trials", None)):
            status, headers, parsed = raw(info, method, path, body, token=token)
            assert status == 401, (token, method, path)
            assert "token" in parsed["error"]
            assert not any(h.lower().startswith("access-control") for h in headers)
    # The run went on: nothing was stopped by those.
    status, headers, parsed = raw(info, "GET", "/trials")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert not any(h.lower().startswith("access-control") for h in headers)
    assert len(parsed["trials"]) == 2
    assert proc.poll() is None


def test_client_lists_stops_adds_and_ends_the_run(served_run):
    proc, exp_dir, info = served_run
    client = TuneClient(experiment_dir=str(exp_dir))
    assert client.server_port == info["port"]
    wait_for("both trials running",
             lambda: set(statuses(client).values()) == {"RUNNING"})
    trials = client.get_all_trials()["trials"]
    assert sorted(t["config"]["x"] for t in trials) == [1, 2]
    first = trials[0]
    assert set(first) >= {"id", "trainable_name", "config", "status", "result"}
    assert first["trainable_name"] == "forever"
    # JSON, not pickles: the result is a plain object.
    wait_for("a result", lambda: (client.get_trial(first["id"])["trial"]["result"] or {})
             .get("it") is not None)
    one = client.get_trial(first["id"])["trial"]
    assert one["id"] == first["id"] and isinstance(one["result"]["it"], int)

    # Stop one trial: it ends, the other goes on.
    client.stop_trial(first["id"])
    wait_for("the stopped trial to terminate",
             lambda: statuses(client)[first["id"]] == "TERMINATED")
    other = [t["id"] for t in trials if t["id"] != first["id"]][0]
    assert statuses(client)[other] == "RUNNING"

    # Add an experiment: its trials join the run, in their own directory.
    added = client.add_trial("added", {"run": "forever", "config": {"x": 7},
                                       "stop": {"training_iteration": 3}})
    assert len(added["trials"]) == 1 and added["trials"][0]["config"] == {"x": 7}
    new_id = added["trials"][0]["id"]
    wait_for("the added trial to finish by its stop rule",
             lambda: statuses(client).get(new_id) == "TERMINATED")
    assert client.get_trial(new_id)["trial"]["result"]["training_iteration"] == 3
    assert (exp_dir.parent / "added").is_dir()

    # End the experiment: the run returns, every trial terminated.
    client.stop_experiment()
    out, err = proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0, err
    assert "STATUSES [(1, 'TERMINATED'), (2, 'TERMINATED'), (7, 'TERMINATED')]" in out
    # The token dies with the run.
    assert not (exp_dir / TOKEN_FILE).exists()


def test_malformed_requests_get_a_status_and_a_message(served_run):
    proc, exp_dir, info = served_run
    json_headers = {"Content-Type": "application/json"}
    cases = [
        (("POST", "/trials", b"{not json", json_headers), 400, "not JSON"),
        (("POST", "/trials", b"[1, 2]", json_headers), 400, "JSON object"),
        (("POST", "/trials", b"\xff\xfe", json_headers), 400, "not JSON"),
        (("POST", "/trials", json.dumps({"name": "a", "spec": {"run": "nope"}}).encode(),
          json_headers), 400, "no trainable named 'nope'"),
        (("POST", "/trials", json.dumps({"name": "../escape", "spec": {"run": "forever"}})
          .encode(), json_headers), 400, "name"),
        (("POST", "/trials", json.dumps({"name": "a", "spec": {"run": "forever",
                                                              "num_samples": -1}}).encode(),
          json_headers), 400, "num_samples"),
        (("POST", "/trials", json.dumps({"name": "a", "spec": {"run": "forever",
                                                              "bogus": 1}}).encode(),
          json_headers), 400, "unknown keys"),
        (("POST", "/trials", json.dumps({"name": "a", "extra": 1}).encode(), json_headers),
         400, "unknown keys"),
        (("POST", "/trials", json.dumps({"name": "a", "spec": {
            "run": "forever", "resources_per_trial": {"cpu": 1000}}}).encode(), json_headers),
         400, ""),
        (("GET", "/trials/no-such-trial", None, {}), 404, "no trial"),
        (("PUT", "/trials/no-such-trial", None, {}), 404, "no trial"),
        (("GET", "/nowhere", None, {}), 404, "no such resource"),
        (("POST", "/stop_experiment", b"{}", json_headers), 405, "not allowed"),
        (("DELETE", "/trials", None, {}), 405, "not supported"),
    ]
    for (method, path, body, headers), status, message in cases:
        got, _, parsed = raw(info, method, path, body, headers)
        assert got == status, (method, path, body, got, parsed)
        assert message in parsed["error"], (path, parsed)

    # A huge body is refused from its Content-Length, before it is read.
    conn = http.client.HTTPConnection(info["host"], info["port"], timeout=60)
    conn.putrequest("POST", "/trials")
    conn.putheader("Authorization", "Bearer " + info["token"])
    conn.putheader("Content-Length", str(64 << 20))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413 and "larger" in json.loads(response.read())["error"]
    conn.close()
    # No Content-Length at all.
    conn = http.client.HTTPConnection(info["host"], info["port"], timeout=60)
    conn.putrequest("POST", "/trials")
    conn.putheader("Authorization", "Bearer " + info["token"])
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 411
    conn.close()

    # None of it disturbed the run.
    client = TuneClient(experiment_dir=str(exp_dir))
    assert len(client.get_all_trials()["trials"]) == 2 and proc.poll() is None
    with pytest.raises(TuneError, match="404"):
        client.get_trial("no-such-trial")
    client.stop_experiment()
    proc.communicate(timeout=DEADLINE_S)
    assert proc.returncode == 0


def test_server_arguments_are_checked(tmp_path):
    import tunec as tune
    with pytest.raises(ValueError, match="server_port"):
        tune.run(lambda config: None, server_port=70000, verbose=0,
                 local_dir=str(tmp_path))
    with pytest.raises(ValueError, match="server_port"):
        TuneServer(port="4321")
    with pytest.raises(ValueError, match="token"):
        TuneClient("127.0.0.1", 4321)
    # A server bound to a free port answers 503 once shut down.
    server = TuneServer(port=0, token_dir=str(tmp_path))
    server.start()
    info = json.loads((tmp_path / TOKEN_FILE).read_text())
    server.shutdown()
    assert not (tmp_path / TOKEN_FILE).exists()
    with pytest.raises(OSError):
        raw(info, "GET", "/trials")
