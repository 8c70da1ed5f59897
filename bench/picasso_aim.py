"""Time Picasso's own AIM (picasso/aim.py) on a Picasso .hdf5 + .yaml, for bench/methods.mjs.

Usage: python3 bench/picasso_aim.py PICASSO_SRC locs.hdf5 truth.npz [segment intersect_nm roi_nm]
PICASSO_SRC is a directory holding Picasso's picasso/aim.py (a checkout of jungmannlab/picasso).
Only aim.py is loaded: the rest of the package (Qt, numba, …) is replaced by the few helpers
aim.py uses (`lib` below), so it runs with numpy, scipy and pandas. Prints one JSON line:
wall and CPU seconds of aim() and the per-frame RMSE per axis (offset removed) against the truth.
"""
import importlib.util
import json
import sys
import time
import types

import h5py
import numpy as np
import pandas as pd
import yaml

src, path, truth_path = sys.argv[1:4]
segment, intersect_nm, roi_nm = (float(v) for v in (sys.argv[4:7] if len(sys.argv) > 6 else (100, 20, 60)))

# A stand-in for picasso.lib with what aim.py uses.
lib = types.ModuleType("picasso.lib")
lib.IntArray1D = lib.IntArray2D = lib.FloatArray1D = lib.SeriesOrFloatArray1D = lib.SeriesOrIntArray1D = np.ndarray
lib.ProgressType = object
lib.deprecation_warning = lambda *a, **k: None


class MockProgress:
    def get_iterator(self, a, b):
        return range(a, b)

    def set_value(self, v):
        pass

    def zero_progress(self, description=None):
        pass

    def close(self):
        pass


lib.MockProgress = MockProgress
lib.ProgressDialog = type("ProgressDialog", (), {})
lib.TqdmProgress = MockProgress


def get_from_metadata(info, key, default=None, raise_error=False):
    for d in info:
        if key in d:
            return d[key]
    if raise_error:
        raise KeyError(key)
    return default


lib.get_from_metadata = get_from_metadata
pkg = types.ModuleType("picasso")
pkg.__path__ = []
pkg.__version__ = "bench"
pkg.lib = lib
sys.modules["picasso"] = pkg
sys.modules["picasso.lib"] = lib
spec = importlib.util.spec_from_file_location("picasso.aim", f"{src}/picasso/aim.py")
aim = importlib.util.module_from_spec(spec)
sys.modules["picasso.aim"] = aim
spec.loader.exec_module(aim)

with h5py.File(path, "r") as f:
    locs = pd.DataFrame(f["locs"][...])
with open(path[: path.rfind(".")] + ".yaml") as f:
    info = [d for d in yaml.safe_load_all(f) if d]
px = get_from_metadata(info, "Pixelsize", raise_error=True)
t0 = time.perf_counter()
c0 = time.process_time()
out, new_info, drift = aim.aim(locs, info, segmentation=int(segment), intersect_d=intersect_nm / px, roi_r=roi_nm / px)
secs = time.perf_counter() - t0
cpu = time.process_time() - c0

# Picasso's drift (pixels, to subtract) at frames 1..N; ours: correction to add in nm.
truth = np.load(truth_path)
tt = truth["tIndex"].astype(int)
n = len(drift)
err = []
for k, axis in enumerate(["x", "y"]):
    est = -np.asarray(drift[axis], float) * px
    idx = np.clip(tt, 0, n - 1)
    d = est[idx] - truth["drift"][:, k]
    err.append(float(np.sqrt(np.mean((d - d.mean()) ** 2))))
print(json.dumps({"seconds": secs, "cpu_seconds": cpu, "rmse_nm": err, "segments": int(segment), "n": len(locs)}))
