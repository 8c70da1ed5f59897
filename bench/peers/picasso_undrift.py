"""Run Picasso's own `postprocess.undrift` (RCC) on a Picasso .hdf5 + .yaml, timing its phases.

Usage: python3 picasso_undrift.py PICASSO_SRC LOCS.hdf5 SEGMENTATION
PICASSO_SRC is a checkout of github.com/jungmannlab/picasso (the folder holding `picasso/`).
Picasso's GUI-only imports (PyQt6, nd2, playsound3) are not needed by undrift and are
replaced by empty stand-ins when absent, so that Debian's Python packages suffice.
Prints one JSON line: wall and CPU seconds (all threads) for read and undrift (segmentation + RCC +
interpolation + apply), rows, and which absent modules were stubbed.
"""
import importlib.util
import json
import sys
import time
import types


class _Anything(types.ModuleType):
    """A stand-in module: every attribute is a class that accepts anything."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        cls = type(name, (), {'__init__': lambda self, *a, **k: None, '__getattr__': lambda self, n: (lambda *a, **k: None)})
        setattr(self, name, cls)
        return cls


def stub(name):
    root = name.split('.')[0]
    if root in sys.modules or importlib.util.find_spec(root) is not None:
        return
    for part in [name] + [name + '.' + s for s in ('QtWidgets', 'QtCore', 'QtGui', 'QtSvg')]:
        sys.modules.setdefault(part, _Anything(part))


for mod in ('PyQt6', 'nd2', 'playsound3', 'imageio'):
    stub(mod)
sys.modules.setdefault('imageio.v2', _Anything('imageio.v2'))
if 'PyQt6' in sys.modules and isinstance(sys.modules['PyQt6'], _Anything):
    for sub in ('QtWidgets', 'QtCore', 'QtGui', 'QtSvg'):
        setattr(sys.modules['PyQt6'], sub, sys.modules['PyQt6.' + sub])
if 'imageio' in sys.modules and isinstance(sys.modules['imageio'], _Anything):
    sys.modules['imageio'].v2 = sys.modules['imageio.v2']

try:  # Debian's scikit-learn predates HDBSCAN, which only Picasso's clusterer uses.
    import sklearn.cluster as _cluster

    if not hasattr(_cluster, 'HDBSCAN'):
        _cluster.HDBSCAN = _Anything('sklearn.cluster').HDBSCAN
except ImportError:
    stub('sklearn')

src, path, segmentation = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, src)
import matplotlib

matplotlib.use('Agg')
# Other modules only Picasso's GUI, localization or database code imports: stand-ins when absent
# (undrift itself needs numpy, numba, scipy, pandas, h5py, yaml).
NEEDED = {'numpy', 'numba', 'scipy', 'pandas', 'h5py', 'yaml', 'matplotlib', 'picasso'}
stubbed = []
for _ in range(30):
    try:
        from picasso import io, postprocess  # noqa: E402
        break
    except ModuleNotFoundError as err:
        root = (err.name or '').split('.')[0]
        if not root or root in NEEDED:
            raise
        for key in [k for k in sys.modules if k == 'picasso' or k.startswith('picasso.')]:
            del sys.modules[key]
        sys.modules[root] = _Anything(root)
        stubbed.append(root)

t0, c0 = time.perf_counter(), time.process_time()
locs, info = io.load_locs(path)
t1, c1 = time.perf_counter(), time.process_time()
drift, undrifted = postprocess.undrift(locs, info, segmentation, display=False)
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({'read': t1 - t0, 'undrift': t2 - t1, 'cpu_read': c1 - c0, 'cpu_undrift': c2 - c1, 'rows': len(locs), 'stubbed': stubbed}))
