"""Notebooks: tune.run and the 2.x Tuner show the live status table as HTML
in a real IPython kernel (JupyterNotebookReporter), with real workers.
Each notebook of tests/notebooks runs top to bottom through nbclient."""
import json
import os
import sys

import pytest

import tunec

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

NOTEBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notebooks")
KERNEL = "tunec-test-python"
HANG_S = 300


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec for this interpreter (the venv's python) in a temporary
    JUPYTER_PATH, and a results directory the notebooks read from the
    environment."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tunec tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("TUNEC_NB_RESULTS", str(tmp_path / "results"))
    monkeypatch.delenv("TUNEC_RAY", raising=False)
    return tmp_path


def execute(name, cwd):
    nb = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=HANG_S,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def outputs(nb):
    """(html displays, stdout text) of the executed notebook."""
    html, text = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "display_data" and "text/html" in out.get("data", {}):
                html.append(out["data"]["text/html"])
            elif out.get("output_type") == "stream" and out.get("name") == "stdout":
                text.append(out["text"])
    return html, "".join(text)


def assert_live_table(html, trials):
    assert html, "no HTML status table was displayed"
    last = html[-1]      # the report shown last replaced the ones before it
    assert "<table" in last and last.count("TERMINATED") >= trials, last
    assert "== Status ==" in last, last


def test_tune_run_shows_the_live_table_in_a_notebook(kernel_env):
    nb = execute("tune_run.ipynb", kernel_env)
    html, text = outputs(nb)
    assert_live_table(html, trials=2)
    assert "TRIALS ['TERMINATED', 'TERMINATED']" in text and "BEST 2" in text, text


def test_tuner_shows_the_live_table_in_a_notebook(kernel_env):
    if not hasattr(tunec, "Tuner"):
        pytest.skip("tunec.Tuner (the 2.x Tuner API) is not in this tree yet")
    nb = execute("tuner.ipynb", kernel_env)
    html, text = outputs(nb)
    assert_live_table(html, trials=2)
    assert "TRIALS 2 0" in text and "BEST 2" in text, text
