"""A small client that speaks Streamlit's websocket protocol, for load tests and benchmarks.

It does what a browser tab does on the wire, without drawing anything: it opens
``ws://HOST:PORT/_stcore/stream``, asks for a page (a ``BackMsg.rerun_script`` naming it),
reads the ``ForwardMsg`` stream until ``script_finished``, and pins the in-browser latent map by
sending the trigger value its JavaScript would send (``{"kind": "point", "index": i}`` or a spot),
for the map element's trigger id and the fragment the map lives in (both read from the delta
that drew it; the points come from the map blob, kept as a browser keeps it). Fragment auto-reruns
(``st.fragment(run_every=...)``, used by the Train page) are answered like a browser does.

The message layout was recorded from Debian's chromium talking to Streamlit 1.67 (the tested
version); :func:`check_version` refuses other versions, whose protocol may differ.
"""
from __future__ import annotations

import asyncio
import base64
import json
import random
import time
from dataclasses import dataclass, field

import numpy as np
import streamlit
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TESTED_STREAMLIT = "1.67"
OK = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


def check_version() -> None:
    """Refuse to run against a Streamlit whose wire protocol was not checked."""
    if not streamlit.__version__.startswith(TESTED_STREAMLIT + "."):
        raise SystemExit(f"bench/stclient.py speaks Streamlit {TESTED_STREAMLIT}'s protocol; "
                         f"installed is {streamlit.__version__}")


def _array(v) -> np.ndarray:
    """A Plotly JSON array: a list, or ``{"dtype", "bdata"[, "shape"]}`` (base64 typed array)."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    return np.asarray(v if v is not None else [])


@dataclass
class MapChart:
    """What a pin needs to know about the in-browser latent map (``ui.latentmap``)."""

    widget_id: str  # the map element's id
    fragment_id: str
    xy: np.ndarray  # (N, 2) map positions of the points, from the map blob
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the map's grid
    post: dict | None = None  # a class map: pins go to this API request (``ui.latentmap``)

    @classmethod
    def from_element(cls, msg: ForwardMsg, blobs: dict) -> MapChart | None:
        """Read the map's id and fragment from the delta that drew it, and its points from
        the map blob (``blobs``: id -> (header, arrays), collected from the carriers)."""
        el = msg.delta.new_element.bidi_component
        data = json.loads(el.json)
        blob = blobs.get(data.get("map"))
        if blob is None:
            return None
        head, arrays = blob
        g = head["grid"]
        return cls(el.id, msg.delta.fragment_id, arrays["xy"].reshape(-1, 2),
                   (g["x0"], g["x1"], g["y0"], g["y1"]), data.get("post"))

    @property
    def n_points(self) -> int:
        """Data points on the map."""
        return len(self.xy)

    @property
    def trigger_id(self) -> str:
        """The widget id that carries the map's trigger values (Streamlit 1.67's aggregator)."""
        from streamlit.components.v2.bidi_component.main import _make_trigger_id

        return _make_trigger_id(self.widget_id, "events")

    def click(self, rng: random.Random, p_empty: float = 0.3) -> tuple[str, str]:
        """Trigger JSON of a pin on a random data point or empty spot (as the browser sends
        it), and what the panel must then show (an image caption)."""
        pin, expect = self.random_pin(rng, p_empty)
        pin["seq"] = rng.randrange(1 << 30)
        return json.dumps([{"event": "pin", "value": pin}]), expect

    def random_pin(self, rng: random.Random, p_empty: float = 0.3) -> tuple[dict, str]:
        """A pin on a random data point or empty spot, and what the panel must then show."""
        if rng.random() < p_empty:
            x0, x1, y0, y1 = self.extent
            pin = {"kind": "grid", "x": x0 + 0.03 * (x1 - x0) * (1 + rng.random()),
                   "y": y1 - 0.03 * (y1 - y0) * (1 + rng.random())}  # a corner: empty space
            expect = "decoder(z)"
        else:
            pin = {"kind": "point", "index": rng.randrange(self.n_points)}
            expect = "reconstruction x̂"
        return pin, expect


@dataclass
class Watcher:
    """The Classroom student page's class watcher (``ui.classwatch``): the state file to fetch,
    the state the page was drawn with, and where its trigger goes."""

    widget_id: str
    fragment_id: str
    url: str | None  # relative to the server's root; None: the page polls by rerunning
    state: str
    period_s: float
    sent: str = ""  # the last value triggered (the JavaScript sends each new state once)

    @classmethod
    def from_element(cls, msg: ForwardMsg) -> Watcher:
        """Read the watcher's id, fragment and data from the delta that drew it."""
        el = msg.delta.new_element.bidi_component
        d = json.loads(el.json)
        return cls(el.id, msg.delta.fragment_id, d["url"], d["state"], d["period_ms"] / 1e3)

    def trigger(self, value: str) -> str:
        """The trigger JSON the watcher's JavaScript sends when the file says ``value``."""
        return json.dumps([{"event": "changed", "value": value}])


class HttpConnection:
    """A persistent HTTP/1.1 connection for a page's small requests, as a browser keeps them
    open for its ``fetch`` calls (reconnects when the server closed it)."""

    post_resends = 0  # POSTs sent again after a reused connection broke (all connections)

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._rw: tuple | None = None
        self.busy = False  # a request is in flight (HTTP/1.1: one at a time)

    async def get(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        """One GET; returns the status and the body (``Content-Length`` framed).

        Raises
        ------
        TimeoutError, ConnectionError
            No answer within ``timeout`` s, or the connection failed twice.
        """
        return await self.request("GET", path, b"", timeout, retry=True)

    async def post_json(self, path: str, obj, timeout: float = 30) -> tuple[int, dict]:
        """One POST of ``obj`` as JSON (as ``fetch`` sends it; not retried: a POST is not
        idempotent); returns the status and the JSON reply ({} if the reply is not JSON)."""
        status, body = await self.request("POST", path, json.dumps(obj).encode(), timeout)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {}

    async def request(self, method: str, path: str, body: bytes = b"", timeout: float = 30,
                      retry: bool = False) -> tuple[int, bytes]:
        """One request (one at a time per connection: ``busy`` meanwhile). Retried once on a
        fresh connection if ``retry``, or, as Chromium does for any method, if a reused
        keep-alive connection was closed by the server before any byte of the answer."""
        self.busy = True
        try:
            for attempt in (0, 1):
                reused = self._rw is not None
                try:
                    return await asyncio.wait_for(self._request(method, path, body), timeout)
                except (ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
                    self.close()
                    stale = reused and (isinstance(exc, ConnectionError) or (
                        isinstance(exc, asyncio.IncompleteReadError) and not exc.partial))
                    if attempt or not (retry or stale):
                        raise
                    if method == "POST":
                        HttpConnection.post_resends += 1
            raise AssertionError("unreachable")
        finally:
            self.busy = False

    async def _request(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self._rw is None:
            self._rw = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._rw
        extra = (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                 if method == "POST" else "")
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                     f"Cache-Control: no-store\r\n{extra}\r\n".encode() + body)
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
        body = await reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        """Close the connection (the next GET opens a new one)."""
        if self._rw is not None:
            self._rw[1].close()
            self._rw = None


@dataclass
class Run:
    """One script run as seen by the client."""

    seconds: float
    status: int | None  # ForwardMsg.ScriptFinishedStatus, None if it never finished
    msgs: list[ForwardMsg] = field(default_factory=list)
    started_s: float | None = None  # when the server's new_session (the run began) arrived

    @property
    def ok(self) -> bool:
        """Finished successfully and drew no exception."""
        return self.status in OK and not self.exceptions

    @property
    def exceptions(self) -> list[str]:
        """Messages of the exceptions the run drew (``st.exception`` elements)."""
        return [m.delta.new_element.exception.message for m in self.msgs
                if m.WhichOneof("type") == "delta"
                and m.delta.new_element.WhichOneof("type") == "exception"]

    def elements(self, kind: str) -> list[ForwardMsg]:
        """The run's new elements of one kind (``"imgs"``, ``"plotly_chart"``, ...)."""
        return [m for m in self.msgs if m.WhichOneof("type") == "delta"
                and m.delta.WhichOneof("type") == "new_element"
                and m.delta.new_element.WhichOneof("type") == kind]

    @property
    def captions(self) -> list[str]:
        """Captions of every image the run drew."""
        return [i.caption for m in self.elements("imgs") for i in m.delta.new_element.imgs.imgs]

    def texts(self) -> str:
        """All markdown, alert and caption text of the run (for checks)."""
        out = []
        for m in self.msgs:
            if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
                el = m.delta.new_element
                kind = el.WhichOneof("type")
                if kind in ("markdown", "alert", "text", "heading"):
                    out.append(getattr(el, kind).body)
        return "\n".join(out)


class Session:
    """One browser tab's conversation with the server (one Streamlit session)."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.url = f"ws://{host}:{port}/_stcore/stream"
        self.ws = None
        self.page_script_hash = ""
        self.page_name = ""
        self.query = ""  # the address's query string, e.g. "join=K7QX2"
        self.chart: MapChart | None = None
        self.watcher: Watcher | None = None  # the Classroom student page's class watcher
        self.widgets: dict[str, object] = {}  # id -> element proto, from the last full run
        self.blobs: dict[str, tuple] = {}  # map and decoder blobs received (as a browser keeps)
        self.auto_rerun: tuple[str, float] | None = None  # (fragment_id, interval s)
        self.auto_reruns: dict[str, float] = {}  # every run_every fragment: id -> interval s
        self._queue: asyncio.Queue[ForwardMsg] = asyncio.Queue()
        self._https: list[HttpConnection] = []  # the page's keep-alive fetch connections
        self._one_run = asyncio.Lock()  # a tab runs one script at a time; others wait
        self._reader: asyncio.Task | None = None

    async def connect(self) -> None:
        """Open the websocket (as a new browser tab does)."""
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"],
                                           max_size=2**26, compression=None,
                                           open_timeout=60, ping_interval=None)
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        """Close the websocket (the server then ends the session) and the fetch connection."""
        for c in self._https:
            c.close()
        if self._reader:
            self._reader.cancel()
        if self.ws is not None:
            await self.ws.close()

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            await self._queue.put(msg)

    def _client_state(self, widget_states: list | None, fragment_id: str = "",
                      auto: bool = False) -> BackMsg:
        back = BackMsg()
        cs = back.rerun_script
        cs.query_string = self.query
        cs.page_name = self.page_name
        cs.page_script_hash = self.page_script_hash
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.widget_states.SetInParent()
        for w in widget_states or []:
            cs.widget_states.widgets.append(w)
        ci = cs.context_info
        ci.timezone, ci.locale, ci.color_scheme = "UTC", "en-US", "light"
        ci.url = self.url.replace("ws://", "http://").split("/_stcore")[0] + "/" + self.page_name
        return back

    async def _rerun(self, back: BackMsg, timeout: float) -> Run:
        async with self._one_run:
            return await self._rerun_now(back, timeout)

    async def _rerun_now(self, back: BackMsg, timeout: float) -> Run:
        while not self._queue.empty():  # stale messages of an earlier run
            self._queue.get_nowait()
        t0 = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        msgs, status, t_started = [], None, None
        deadline = t0 + timeout
        started = False
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            try:
                msg = await asyncio.wait_for(self._queue.get(), left)
            except TimeoutError:
                break
            kind = msg.WhichOneof("type")
            msgs.append(msg)
            if kind == "new_session":
                started = True
                t_started = time.perf_counter() - t0
                if not msg.metadata.run.fragment_ids:
                    self.auto_rerun = None  # a full run registers its run_every fragments anew
                    self.auto_reruns = {}
            elif kind == "navigation" and msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash  # the page now shown
            elif kind == "auto_rerun":
                self.auto_rerun = (msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
                self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                self.auto_rerun = None
            elif kind == "script_finished" and started:
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    started = False  # st.rerun(): a new run follows; wait for it
                    continue
                status = msg.script_finished
                break
        run = Run(time.perf_counter() - t0, status, msgs, t_started)
        from ui import blob

        for m in run.elements("bidi_component"):
            el = m.delta.new_element.bidi_component
            if el.WhichOneof("data") == "bytes":  # a carrier: keep the blob, as the browser does
                head, arrays = blob.unpack(el.bytes)
                self.blobs[head["id"]] = (head, arrays)
        for m in run.elements("bidi_component"):
            el = m.delta.new_element.bidi_component
            if el.WhichOneof("data") == "json" and '"pins": true' in el.json:
                self.chart = MapChart.from_element(m, self.blobs) or self.chart
            if el.WhichOneof("data") == "json" and '"period_ms"' in el.json:
                sent = self.watcher.sent if self.watcher else ""
                self.watcher = Watcher.from_element(m)
                self.watcher.sent = sent
        return run

    async def open_page(self, page_name: str, timeout: float = 180, query: str = "") -> Run:
        """Load a page as a fresh tab does (a full run with no widget state); ``query`` is the
        address's query string (e.g. ``join=K7QX2``)."""
        self.page_name, self.query = page_name, query
        run = await self._rerun(self._client_state([]), timeout)
        self.widgets = {}
        for m in run.msgs:
            if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element":
                el = m.delta.new_element
                proto = getattr(el, el.WhichOneof("type"))
                wid = getattr(proto, "id", "")
                if wid:
                    self.widgets[wid] = proto
        return run

    def widget_id(self, label: str) -> str:
        """Id of the widget with this label, from the last full run."""
        for wid, proto in self.widgets.items():
            if getattr(proto, "label", None) == label:
                return wid
        raise KeyError(f"no widget labelled {label!r}; have "
                       f"{sorted(getattr(p, 'label', '?') for p in self.widgets.values())}")

    async def click_map(self, rng: random.Random, timeout: float = 60) -> tuple[Run, bool]:
        """Click the latent map once; returns the run and whether the panel showed the right
        image (the reconstruction for a data point, ``decoder(z)`` for empty space)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        trigger, expect = self.chart.click(rng)
        w = WidgetState(id=self.chart.trigger_id, json_trigger_value=trigger)
        run = await self._rerun(self._client_state([w], self.chart.fragment_id), timeout)
        return run, run.ok and expect in run.captions

    def _http_connection(self) -> HttpConnection:
        """A free keep-alive HTTP connection to the session's server (for fetches and posts),
        opened if all are busy, as a browser keeps up to 6 per host."""
        for c in self._https:
            if not c.busy:
                return c
        if len(self._https) >= 6:
            raise RuntimeError("6 requests of this page are already in flight")
        host, port = self.url.split("//")[1].split("/")[0].split(":")
        self._https.append(HttpConnection(host, int(port)))
        return self._https[-1]

    async def post_pin(self, rng: random.Random, timeout: float = 60) -> tuple[float, int, dict]:
        """Pin a class map once as its JavaScript does: one POST to the class API (no script
        run). Returns the seconds until the reply, its status and its JSON."""
        if self.chart is None or not self.chart.post:
            raise RuntimeError("this page's map sends its pins to Python, not to the class API")
        pin, _ = self.chart.random_pin(rng)
        post = self.chart.post
        return await self.post_json(post["url"], {**post["body"], "pick": pin}, timeout)

    async def post_json(self, url: str, obj, timeout: float = 60) -> tuple[float, int, dict]:
        """POST ``obj`` as JSON to ``url`` (relative to the server's root, as a page's
        ``fetch`` resolves it) on the session's keep-alive connection. Returns the seconds
        until the reply, its status and its JSON."""
        t0 = time.perf_counter()
        status, reply = await self._http_connection().post_json("/" + url, obj, timeout)
        return time.perf_counter() - t0, status, reply

    async def pin(self, rng: random.Random, timeout: float = 60) -> tuple[float, float, bool, str]:
        """Pin the page's map once, the way its page sends it: a class map through the class
        API (:meth:`post_pin`), any other map through a fragment run (:meth:`click_map`).

        Returns the seconds until the answer (the reply; the finished run), the seconds until
        the server began (the same for a POST; the run's start), whether it succeeded (stored;
        drew the expected image) and, on failure, why.
        """
        if self.chart is not None and self.chart.post:
            secs, status, reply = await self.post_pin(rng, timeout)
            return secs, secs, status == 200 and reply.get("ok") is True, \
                f"status {status}, reply {reply}"
        run, ok = await self.click_map(rng, timeout)
        return run.seconds, run.started_s or run.seconds, ok, \
            f"status {run.status}, exceptions {run.exceptions[:1]}, captions {run.captions}"

    async def poll_watcher(self, timeout: float = 60) -> tuple[float, Run | None]:
        """One fetch of the class's state file, as the watcher's JavaScript does; when the file
        differs from the state the page was drawn with, send the trigger (a fragment run).
        Returns the fetch's seconds and the run (None: nothing changed).

        Raises
        ------
        RuntimeError
            If the page has no watcher or the fetch did not answer 200.
        """
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        from streamlit.components.v2.bidi_component.main import _make_trigger_id

        w = self.watcher
        if w is None:
            raise RuntimeError("this page has no class watcher")
        t0 = time.perf_counter()
        if w.url is None:
            value = "tick"
        else:
            status, body = await self._http_connection().get("/" + w.url, timeout)
            if status != 200:
                raise RuntimeError(f"the class's state file answered {status}")
            value = body.decode().strip()
            if value in (w.state, w.sent):
                return time.perf_counter() - t0, None
            w.sent = value
        fetch_s = time.perf_counter() - t0
        state = WidgetState(id=_make_trigger_id(w.widget_id, "events"),
                            json_trigger_value=w.trigger(value))
        run = await self._rerun(self._client_state([state], w.fragment_id), timeout)
        return fetch_s, run

    async def rerun_with(self, states: list, timeout: float = 180) -> Run:
        """A full rerun with these widget states (e.g. a button's ``trigger_value``)."""
        return await self._rerun(self._client_state(states), timeout)

    async def fragment_run(self, fragment_id: str, states: list | None = None, auto: bool = False,
                           timeout: float = 60) -> Run:
        """Rerun one fragment: with widget states (a click inside it), or as its timer does."""
        return await self._rerun(self._client_state(states or [], fragment_id, auto=auto),
                                 timeout)

    async def auto_rerun_once(self, timeout: float = 60) -> Run | None:
        """Run the page's ``run_every`` fragment once, as the browser's timer does."""
        if self.auto_rerun is None:
            return None
        frag, _ = self.auto_rerun
        return await self._rerun(self._client_state([], frag, auto=True), timeout)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB (Linux ``/proc``)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Server:
    """``streamlit run app.py`` on a free loopback port, as a context manager.

    ``env`` adds to the environment (e.g. ``LATENTLAB_USER_DIR``); the server's output goes to
    ``log`` (a path).
    """

    def __init__(self, root, env: dict | None = None, log=None, args: tuple = ()):
        import os

        self.root, self.port, self.args = root, free_port(), list(args)
        self.env = dict(os.environ, **(env or {}))
        self.log = log
        self.proc = None

    def __enter__(self) -> Server:
        import subprocess
        import sys
        import urllib.request

        out = open(self.log, "w") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", *self.args],
            cwd=self.root, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stcore/health", timeout=1)
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError(f"streamlit did not start (log: {self.log})")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except Exception:
            self.proc.kill()

    @property
    def rss_mb(self) -> float:
        """The server process's resident memory, MiB."""
        return rss_mb(self.proc.pid)
