"""Bad input at the app's edges: broken checkpoints in the user folder, saves killed half-way,
unsafe names and huge requests.

``tests/test_checkpoints.py`` checks that ``aecore.checkpoints`` refuses each bad file with a
``CheckpointError``; here the same files are dropped into the user folder of a running page
(AppTest), which must keep working, say which file it skipped, and change no file.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save
from streamlit.testing.v1 import AppTest

from aecore import checkpoints, latent
from aecore.errors import CheckpointError, RequestTooLarge
from aecore.models import VAEConfig, build_model
from tests import mapspec
from ui.plaintext import escape_md

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("[0-9]*_*.py"))
BAD_KINDS = ["truncated", "random_bytes", "foreign_safetensors", "other_architecture",
             "other_input_size", "nan_weights", "inf_weights", "pickle_runs_code",
             "torch_pickle_runs_code"]


class _RunsCode:
    """Unpickling this calls ``open(marker, "w")``: the file appears if code ever runs."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _weights(cfg: VAEConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return {k: v.clone().contiguous() for k, v in build_model(cfg).state_dict().items()}


def _header(cfg: VAEConfig) -> dict[str, str]:
    """Latent Lab metadata for a digits model with config ``cfg``."""
    meta = {"format": checkpoints.FORMAT, "format_version": checkpoints.FORMAT_VERSION,
            "model_config": cfg.to_dict(), "dataset": "digits"}
    return {"latentlab": json.dumps(meta)}


def make_bad(kind: str, path: Path, marker: Path) -> None:
    """Write one kind of bad checkpoint to ``path`` (all claim to be digits models)."""
    cfg = VAEConfig(hidden=(32,))
    good = st_save(_weights(cfg), metadata=_header(cfg))
    if kind == "truncated":
        blob = good[: len(good) // 2]
    elif kind == "random_bytes":
        blob = np.random.default_rng(1).bytes(4096)
    elif kind == "foreign_safetensors":  # a valid safetensors file from another program
        blob = st_save(_weights(cfg), metadata={"framework": "pt"})
    elif kind == "other_architecture":  # the header says 64 hidden units, the weights hold 32
        blob = st_save(_weights(cfg), metadata=_header(VAEConfig(hidden=(64,))))
    elif kind == "other_input_size":  # the header says 8x8 digits, the weights are for 28x28
        big = VAEConfig(hidden=(32,), input_shape=(1, 28, 28))
        blob = st_save(_weights(big), metadata=_header(cfg))
    elif kind in ("nan_weights", "inf_weights"):
        w = _weights(cfg)
        w[next(k for k in w if k.endswith("weight"))].view(-1)[3] = (
            float("nan") if kind == "nan_weights" else float("inf"))
        blob = st_save(w, metadata=_header(cfg))
    elif kind == "pickle_runs_code":
        blob = pickle.dumps({"weights": _RunsCode(str(marker))})
    elif kind == "torch_pickle_runs_code":  # what torch.save of a booby-trapped object writes
        torch.save({"weights": _RunsCode(str(marker))}, path)
        return
    else:
        raise AssertionError(kind)
    path.write_bytes(blob)


def _snapshot(*folders: Path) -> dict[str, str]:
    """sha256 of every file under ``folders`` (what must not change)."""
    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """A fresh, empty user-model folder and map cache for one test."""
    monkeypatch.setenv("LATENTLAB_USER_DIR", str(tmp_path / "user"))
    monkeypatch.setenv("LATENTLAB_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "user").mkdir()
    return tmp_path / "user"


def _run(page: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=90)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    return at


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_checkpoint_is_refused_and_the_map_page_keeps_working(kind, user_dir, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # torch.load would unpickle
    marker = tmp_path / "CODE_RAN"
    bad = user_dir / f"bad_{kind}.safetensors"
    make_bad(kind, bad, marker)
    before = _snapshot(user_dir, checkpoints.SHIPPED_DIR)

    # the library refuses it with the typed error, naming the file
    with pytest.raises(CheckpointError, match=bad.name):
        checkpoints.load(bad)

    # the page, even asked for exactly that file, draws the default model's map and says
    # which file it skipped and why
    at = _run("1_Latent_map.py", **{"side.model": str(bad)})
    assert not at.exception, at.exception[0].value
    warnings = [w.value for w in at.warning if escape_md(bad.name) in w.value]  # plain text
    assert len(warnings) == 1 and "Skipped" in warnings[0]
    assert mapspec.map_data(at)["map"].startswith("map:digits_vae_z2")
    assert at.session_state["side.model"] != str(bad)
    # ... and a click on the map still shows the three images
    at.session_state["map.pick"] = {"kind": "point", "index": 5}
    at.run()
    assert not at.exception
    captions = {i.caption for img in at.get("image") for i in img.proto.imgs}
    assert {"original x", "reconstruction x̂"} <= captions

    assert not marker.exists(), "unpickling ran code"
    assert _snapshot(user_dir, checkpoints.SHIPPED_DIR) == before, "a file was changed"
    assert sorted(p.name for p in user_dir.iterdir()) == [bad.name], "a file was added"


NO_PICKER = {"14_Tabular.py"}  # no sidebar: the page shows its own shipped model only


@pytest.mark.parametrize("page", PAGES)
def test_every_page_survives_a_bad_checkpoint_in_the_user_folder(page, user_dir, tmp_path):
    """A file that passes the header check but not the weight check (the sneakiest kind)."""
    bad = user_dir / "sneaky.safetensors"
    make_bad("other_architecture", bad, tmp_path / "unused")
    before = bad.read_bytes()
    at = _run(page, **{"side.model": str(bad)})
    assert not at.exception, at.exception[0].value
    if page not in NO_PICKER:  # the model picker lists the bad file's problem
        assert any(escape_md("sneaky.safetensors") in w.value and "do not match" in w.value
                   for w in at.warning)
    assert bad.read_bytes() == before


@pytest.mark.slow
def test_pickle_in_a_fresh_process_with_unsafe_torch_default_never_runs(user_dir, tmp_path):
    """Process level: a new interpreter with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 lists, loads
    and renders the user folder holding two booby-trapped pickles; no code runs."""
    marker = tmp_path / "CODE_RAN"
    make_bad("pickle_runs_code", user_dir / "a.safetensors", marker)
    make_bad("torch_pickle_runs_code", user_dir / "b.safetensors", marker)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from aecore import checkpoints
        from services.paths import user_dir
        from streamlit.testing.v1 import AppTest
        infos, problems = checkpoints.list_checkpoints(user_dir())
        assert infos == [] and len(problems) == 2, (infos, problems)
        for p in user_dir().iterdir():
            try:
                checkpoints.load(p)
            except checkpoints.CheckpointError:
                pass
            else:
                raise SystemExit("loaded " + str(p))
        at = AppTest.from_file({str(ROOT / "pages" / "1_Latent_map.py")!r}, default_timeout=90)
        at.run()
        assert not at.exception
        print("OK", len(at.warning))
    """)
    env = dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "OK 2" in out.stdout
    assert not marker.exists()


# --- saving killed half-way -------------------------------------------------------------

_KILLER = textwrap.dedent("""
    # For each trial k: fork a child that saves model A, B, A, ... to <base>/<k>/m.safetensors
    # forever; once its first save is done, SIGKILL it at a random moment.
    import os, random, signal, sys, time
    import torch
    torch.set_num_threads(1)  # no thread pool yet, so fork() is safe
    sys.path.insert(0, sys.argv[1])
    from aecore import checkpoints
    from aecore.models import VAEConfig, build_model
    base, trials = sys.argv[2], int(sys.argv[3])
    random.seed(0)
    cfg = VAEConfig(input_shape=(1, 28, 28), hidden=(400,), latent_dim=20)  # ~2.6 MB file
    models = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        models.append(build_model(cfg))
    for k in range(trials):
        path = os.path.join(base, str(k), "m.safetensors")
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            i = 0
            while True:
                checkpoints.save(models[i % 2], path, meta={"seed": 1 + i % 2})
                if i == 0:
                    os.write(w, b"1")
                i += 1
        os.close(w)
        assert os.read(r, 1) == b"1"
        time.sleep(random.uniform(0.0, 0.4))  # a save (with fsync) takes ~0.05-0.4 s
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        os.close(r)
    print("done", trials)
""")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill test forks (POSIX only)")
def test_a_save_killed_at_random_leaves_the_old_or_the_new_file_never_a_broken_one(tmp_path):
    trials = 24
    out = subprocess.run([sys.executable, "-c", _KILLER, str(ROOT), str(tmp_path), str(trials)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and f"done {trials}" in out.stdout, out.stderr[-2000:]
    cfg = VAEConfig(input_shape=(1, 28, 28), hidden=(400,), latent_dim=20)
    expected = {seed: _weights(cfg, seed) for seed in (1, 2)}
    seen, leftovers = set(), 0
    for k in range(trials):
        model, info = checkpoints.load(tmp_path / str(k) / "m.safetensors")  # never broken
        seed = info.meta["seed"]
        seen.add(seed)
        for name, v in model.state_dict().items():
            assert torch.equal(v, expected[seed][name]), (k, name)
        # a kill mid-write leaves a hidden temporary file, which the listing ignores
        infos, problems = checkpoints.list_checkpoints(tmp_path / str(k))
        assert [i.name for i in infos] == ["m"] and problems == []
        leftovers += len(list((tmp_path / str(k)).glob(".m.safetensors.*.tmp")))
    assert seen == {1, 2}  # kills landed both after an A save and after a B save
    assert leftovers > 0  # ... and some landed in the middle of writing a file


# --- names and huge requests ------------------------------------------------------------

@pytest.mark.parametrize("name", ["/etc/passwd", "../../evil", "..", "a/../b", "C:\\x",
                                  "nul\x00", "bell\x07", "del\x7f", "rtl\u202eexe",
                                  " space", "-rf", "a" * 65])
def test_unsafe_names_are_refused_and_nothing_is_written(name, user_dir):
    with pytest.raises(CheckpointError, match="invalid checkpoint name"):
        checkpoints.validate_name(name)
    assert list(user_dir.iterdir()) == []


def _counting(model, monkeypatch) -> list:
    """Record every call of the model's decoder (the expensive work)."""
    calls = []
    orig = type(model).decode

    def decode(self, z):
        calls.append(len(z))
        return orig(self, z)

    monkeypatch.setattr(type(model), "decode", decode)
    return calls


def test_huge_library_requests_are_refused_before_any_work(monkeypatch):
    model, _ = checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z2.safetensors")
    calls = _counting(model, monkeypatch)
    with pytest.raises(RequestTooLarge, match="1000000 samples"):
        latent.sample_prior(model, 10**6)
    with pytest.raises(RequestTooLarge, match="10000"):
        latent.grid_2d(-3, 3, -3, 3, 10_000)  # a 10,000 x 10,000 manifold
    with pytest.raises(RequestTooLarge):
        latent.normal_grid_2d(10_000)
    with pytest.raises(RequestTooLarge):
        latent.decode(model, np.zeros((latent.MAX_DECODE + 1, 2), np.float32))
    assert calls == []


def test_huge_requests_in_the_page_show_a_message_and_do_no_work(monkeypatch, user_dir):
    """The page's widgets stop at safe sizes; beyond them aecore's refusal reaches the user."""
    from ui import prior

    monkeypatch.setattr(prior, "MAX_GRID", 10_000)  # as if the slider allowed 10,000 x 10,000
    monkeypatch.setattr(latent, "MAX_SAMPLES", 8)  # as if 32 samples were far too many
    model_cls = type(checkpoints.load(checkpoints.SHIPPED_DIR / "digits_vae_z2.safetensors")[0])
    calls = []
    orig = model_cls.sample
    monkeypatch.setattr(model_cls, "sample",
                        lambda self, n, **kw: calls.append(n) or orig(self, n, **kw))
    at = _run("3_Sample_prior.py", **{"prior.grid": 10_000})
    assert not at.exception, at.exception[0].value
    errors = [e.value for e in at.error]
    assert any("32 samples requested" in e for e in errors), errors
    assert any("grid size 10000" in e for e in errors), errors
    assert calls == []  # no sample was drawn


def test_the_pages_offer_only_safe_request_sizes():
    from ui import prior

    assert prior.MAX_GRID <= 200  # aecore.latent.grid_2d's own bound
    at = _run("3_Sample_prior.py")
    sliders = {s.label: s for s in at.slider}
    assert sliders["Samples"].max <= latent.MAX_SAMPLES
    assert sliders["Grid size (n × n images)"].max == prior.MAX_GRID


def test_uploads_are_bounded():
    """The app takes no uploads today; the server still caps a request at a few MiB."""
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert 1 <= cfg["server"]["maxUploadSize"] <= 16
    sources = [p.read_text() for p in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"),
                                       *(ROOT / "ui").glob("*.py")]]
    # an uploader needs its own bad-input tests (shape, dtype, range, size) before it ships
    assert not any("file_uploader" in s for s in sources)
