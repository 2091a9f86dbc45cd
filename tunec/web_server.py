"""``ray.tune.web_server``: a REST API to watch and steer a running tune.run
(spec §13), with Ray's routes and a safe wire format.

    GET  /trials              200 {"trials": [info, ...]}
    GET  /trials/<id>         200 {"trial": info}      404 for an unknown id
    PUT  /trials/<id>         stop that trial: 200 {"trial": info}
    PUT  /trials              stop every trial: 200 {"trials": [...]}
    POST /trials              {"name": exp, "spec": {...}}: add an experiment's
                              trials: 201 {"trials": [info, ...]}
    PUT  /stop_experiment     end the run (as Ctrl-C's graceful stop): 200 {}

What differs from Ray, on purpose:

* JSON only. Ray sends ``config`` and ``result`` as hex of cloudpickle, and
  its client unpickles what a server sends: anyone who can answer on the
  port can run code in the client. Here both are JSON (values JSON cannot
  hold become their ``repr``), and a POSTed spec is plain data: ``run`` names
  a registered trainable or one of this run's.
* Bound to 127.0.0.1 unless ``host`` says otherwise, and every request must
  carry ``Authorization: Bearer <token>``: a per-run random token written,
  mode 0600, to ``<experiment dir>/tune_server.json`` (with host and port),
  which TuneClient reads. Without it, or with a wrong one: 401. No CORS
  headers, so a web page cannot read the answers.
* Bodies are bounded (``MAX_BODY`` bytes, 413 past it), need a
  Content-Length (411), and must be a JSON object (400 names the problem).

The server thread never touches the engine: each request is queued and the
driver loop (tunec/_run.py) applies it between engine steps through
``TuneServer.process_requests``; the request's thread waits for that answer
(503 if the run ends first).
"""
import hmac
import json
import os
import queue
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tunec.error import TuneError

__all__ = ["TuneServer", "TuneClient", "DEFAULT_PORT", "TOKEN_FILE"]

DEFAULT_PORT = 4321
TOKEN_FILE = "tune_server.json"
MAX_BODY = 1 << 20
# How long a request waits for the driver loop (which steps every 0.25 s).
ANSWER_TIMEOUT_S = 60.0
# A client that stops sending mid-request frees its thread after this.
SOCKET_TIMEOUT_S = 10.0


class _Request:
    """One queued request: what to do, and where its answer goes."""

    def __init__(self, action, *args):
        self.action = action
        self.args = args
        self.answer = None           # (status, body dict)
        self.answered = threading.Event()

    def reply(self, status, body):
        if not self.answered.is_set():
            self.answer = (status, body)
            self.answered.set()


class _BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _handler_class(server):
    """The request handler bound to one TuneServer."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tunec"
        sys_version = ""
        timeout = SOCKET_TIMEOUT_S

        def log_message(self, format, *args):   # quiet, as Ray's logger is
            pass

        def _send(self, status, body, extra_headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra_headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _authorized(self):
            header = self.headers.get("Authorization") or ""
            scheme, _, token = header.partition(" ")
            return scheme.lower() == "bearer" and hmac.compare_digest(
                token.strip().encode(), server.token.encode())

        def _body(self):
            if self.headers.get("Transfer-Encoding"):
                raise _BadRequest(411, "send the body with a Content-Length, not chunked")
            length = self.headers.get("Content-Length")
            if length is None:
                raise _BadRequest(411, "Content-Length is required")
            try:
                length = int(length)
            except ValueError:
                raise _BadRequest(400, "Content-Length is not a number") from None
            if length < 0:
                raise _BadRequest(400, "Content-Length is negative")
            if length > MAX_BODY:
                raise _BadRequest(413, "the body is larger than {} bytes".format(MAX_BODY))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                raise _BadRequest(400, "the body is not JSON: {}".format(exc)) from None
            if not isinstance(body, dict):
                raise _BadRequest(400, "the body must be a JSON object")
            return body

        def _route(self):
            """(action, args) of this request; _BadRequest when it has none."""
            parts = [p for p in urlsplit(self.path).path.split("/") if p]
            method = self.command
            if parts == ["trials"]:
                if method in ("GET", "HEAD"):
                    return "list", ()
                if method == "PUT":
                    return "stop_all", ()
                if method == "POST":
                    body = self._body()
                    if set(body) - {"name", "spec"}:
                        raise _BadRequest(400, "unknown keys: {}".format(
                            sorted(set(body) - {"name", "spec"})))
                    return "add", (body.get("name"), body.get("spec"))
            elif len(parts) == 2 and parts[0] == "trials":
                if method in ("GET", "HEAD"):
                    return "get", (parts[1],)
                if method == "PUT":
                    return "stop", (parts[1],)
            elif parts == ["stop_experiment"]:
                if method == "PUT":
                    return "stop_experiment", ()
            else:
                raise _BadRequest(404, "no such resource: /{}".format("/".join(parts)))
            raise _BadRequest(405, "{} is not allowed on /{}".format(method, "/".join(parts)))

        def _handle(self):
            if not self._authorized():
                self._send(401, {"error": "a valid bearer token is required (see {} in the "
                                          "experiment directory)".format(TOKEN_FILE)},
                           [("WWW-Authenticate", 'Bearer realm="tunec"')])
                return
            try:
                action, args = self._route()
            except _BadRequest as exc:
                self.close_connection = True
                self._send(exc.status, {"error": str(exc)})
                return
            status, body = server.submit(action, *args)
            self._send(status, body)

        do_GET = do_PUT = do_POST = do_HEAD = _handle

        def _not_allowed(self):
            if not self._authorized():
                self._send(401, {"error": "a valid bearer token is required"})
            else:
                self._send(405, {"error": "{} is not supported".format(self.command)})

        do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    return Handler


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class TuneServer(threading.Thread):
    """Serves the REST API of one run on ``host:port`` (port 0: a free one,
    then ``self.port``). ``token_dir``: where tune_server.json goes (the
    experiment directory). Start it with ``start()``; the driver calls
    ``process_requests(apply)`` between steps and ``shutdown()`` at the end.
    """

    DEFAULT_PORT = DEFAULT_PORT

    def __init__(self, runner=None, port=None, host="127.0.0.1", token_dir=None):
        super().__init__(name="tunec-web-server", daemon=True)
        if port is None:
            port = DEFAULT_PORT
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError("server_port must be an int in [0, 65535], got {!r}".format(port))
        self._runner = runner
        self._queue = queue.Queue()
        self._pending = []           # (request, callback): answered on a later pass
        self._closed = False
        self._lock = threading.Lock()
        self.token = secrets.token_urlsafe(32)
        try:
            self._httpd = _HTTPServer((host, port), _handler_class(self))
        except OSError as exc:
            raise TuneError("tune.run(with_server=True): cannot listen on {}:{}: {}".format(
                host, port, exc)) from exc
        self.host, self.port = self._httpd.server_address[:2]
        self.token_file = None
        if token_dir is not None:
            self.token_file = self._write_token(token_dir)

    def _write_token(self, directory):
        """tune_server.json, mode 0600 from its creation (a temp file renamed
        over any older one)."""
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, TOKEN_FILE)
        tmp = "{}.{}.tmp".format(path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, json.dumps({"host": self.host, "port": self.port, "token": self.token,
                                     "pid": os.getpid()}).encode())
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return path

    def run(self):
        self._httpd.serve_forever(poll_interval=0.2)

    # -- the request threads' side -------------------------------------------
    def submit(self, action, *args):
        """Queues a request and waits for the driver's answer."""
        request = _Request(action, *args)
        with self._lock:
            if self._closed:
                return 503, {"error": "the experiment has finished"}
            self._queue.put(request)
        if not request.answered.wait(ANSWER_TIMEOUT_S):
            return 503, {"error": "the experiment did not answer in time"}
        return request.answer

    # -- the driver's side -----------------------------------------------------
    def process_requests(self, apply):
        """Answers every queued request with ``apply(action, *args)`` ->
        (status, body), or (None, callback) to answer later: the callback is
        kept and called (returning (status, body) or None) on later calls
        until it answers. Runs on the driver thread only."""
        pending, self._pending = self._pending, []
        for request, later in pending:
            self._answer_later(request, later)
        while True:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                break
            try:
                status, body = apply(request.action, *request.args)
            except _BadRequest as exc:
                status, body = exc.status, {"error": str(exc)}
            except (TuneError, ValueError, TypeError) as exc:
                status, body = 400, {"error": str(exc)}
            if status is None:
                self._answer_later(request, body)
            else:
                request.reply(status, body)

    def _answer_later(self, request, later):
        answer = later()
        if answer is None:
            self._pending.append((request, later))
        else:
            request.reply(*answer)

    def shutdown(self):
        """Stops serving; queued and pending requests get 503; removes the
        token file (the token is dead)."""
        with self._lock:
            self._closed = True
        self._httpd.shutdown()
        self._httpd.server_close()
        for request, _ in self._pending:
            request.reply(503, {"error": "the experiment has finished"})
        while True:
            try:
                self._queue.get_nowait().reply(503, {"error": "the experiment has finished"})
            except queue.Empty:
                break
        if self.token_file:
            try:
                os.unlink(self.token_file)
            except OSError:
                pass


def bad_request(message, status=400):
    """The exception an ``apply`` raises for a request it refuses."""
    return _BadRequest(status, message)


# --------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------

class TuneClient:
    """Ray's TuneClient over http.client, JSON only.

    ``TuneClient(tune_address, port_forward)`` as in Ray; the token comes
    from ``token`` or ``experiment_dir`` (its tune_server.json, which also
    gives the port when ``port_forward`` is None). Methods return the parsed
    JSON; a non-2xx answer raises TuneError with the server's message.
    """

    def __init__(self, tune_address="127.0.0.1", port_forward=None, token=None,
                 experiment_dir=None, timeout=None):
        if experiment_dir is not None:
            with open(os.path.join(experiment_dir, TOKEN_FILE)) as f:
                info = json.load(f)
            token = token or info["token"]
            if port_forward is None:
                port_forward = info["port"]
        if token is None:
            raise ValueError("TuneClient needs the run's token: pass experiment_dir= (it "
                             "reads {}) or token=".format(TOKEN_FILE))
        self._tune_address = tune_address
        self._port_forward = DEFAULT_PORT if port_forward is None else port_forward
        self._token = token
        self._timeout = timeout
        self._path = "http://{}:{}".format(tune_address, self._port_forward)

    @property
    def server_address(self):
        return self._tune_address

    @property
    def server_port(self):
        return self._port_forward

    def get_all_trials(self, timeout=None):
        """{"trials": [info, ...]}"""
        return self._request("GET", "/trials", timeout=timeout)

    def get_trial(self, trial_id, timeout=None):
        """{"trial": info}"""
        return self._request("GET", "/trials/{}".format(trial_id), timeout=timeout)

    def add_trial(self, name, specification):
        """Adds the trials of experiment `name` with `specification` (run,
        config, stop, num_samples, resources_per_trial); {"trials": [...]}."""
        return self._request("POST", "/trials", {"name": name, "spec": specification})

    def stop_trial(self, trial_id):
        """{"trial": info}"""
        return self._request("PUT", "/trials/{}".format(trial_id))

    def stop_experiment(self):
        return self._request("PUT", "/stop_experiment")

    def _request(self, method, path, body=None, timeout=None):
        import http.client
        from urllib.parse import quote
        conn = http.client.HTTPConnection(self._tune_address, self._port_forward,
                                          timeout=timeout or self._timeout or ANSWER_TIMEOUT_S)
        try:
            data = json.dumps(body).encode() if body is not None else b""
            headers = {"Authorization": "Bearer {}".format(self._token),
                       "Content-Type": "application/json",
                       "Content-Length": str(len(data))}
            conn.request(method, quote(path), body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(payload.decode("utf-8")) if payload else {}
        except ValueError:
            parsed = {"error": payload.decode("utf-8", "replace")}
        if not 200 <= response.status < 300:
            raise TuneError("{} {}: {} {}".format(method, path, response.status,
                                                  parsed.get("error", parsed)))
        return parsed
