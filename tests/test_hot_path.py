"""The driver runs no Python per result with built-in components (DESIGN §1):
count Python function calls in the driver during runs of different sizes."""
import sys

import tunec as tune


def tight(config):
    for i in range(config["n"]):
        tune.report(i=i, loss=1.0 / (i + 1))


def count_driver_calls(tmp_path, n):
    """Python calls in the driver, less the status tick (_report, one every
    0.25 s): how many ticks a run has depends on how fast this machine is."""
    calls = [0]

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code.co_name != "_report":
            calls[0] += 1

    sys.setprofile(profiler)
    try:
        tune.run(tight, config={"n": n}, num_samples=2, local_dir=str(tmp_path), verbose=0,
                 stop={"i": 10 ** 9})
    finally:
        sys.setprofile(None)
    return calls[0]


def test_python_calls_do_not_grow_with_results(tmp_path):
    tune.init(num_cpus=2)
    try:
        count_driver_calls(tmp_path, 10)            # warm imports
        small = count_driver_calls(tmp_path, 100)   # 200 results
        large = count_driver_calls(tmp_path, 20000)  # 40,000 results
    finally:
        tune.shutdown()
    # 200 times the results, (almost) no more calls: none per result.
    assert large < small + 400, (small, large)
    assert large < 40000 / 20, (small, large)
