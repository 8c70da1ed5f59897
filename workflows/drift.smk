# Snakemake workflow: correct the drift of every localization table in a folder with ccdrift,
# one job per table, with the names `ccdrift locs` uses (<name>_undrift.<ext>, <name>_drift.npz).
#
#   snakemake -s workflows/drift.smk --cores 8 --config inputs=raw/ out=corrected/
#   snakemake -s workflows/drift.smk --profile slurm --config inputs=raw/ out=corrected/   # a cluster (README)
#
# Config (all optional but `inputs`):
#   inputs    folder of tables: .csv .tsv (ThunderSTORM/plain), .hdf .h5r (PYME), .hdf5 (+ .yaml, Picasso)
#   out       folder for the results (default: corrected/); a log per table in <out>/logs/
#   ccdrift   the command to run (default: ccdrift; e.g. "node /path/to/ccdrift/bin/ccdrift.js")
#   args      further `ccdrift locs` flags for every table, e.g. "--per-frame txt --plot png"
#   threads   worker threads per job (default 2)
# Files whose name ends in _undrift or _drift (ccdrift's own results) are not inputs. Only the
# top level of `inputs` is read. A .h5r is written as .hdf (PYME's localization format).
import os
import re
from pathlib import Path

INPUTS = config.get("inputs")
if not INPUTS:
    raise ValueError("drift.smk: give the folder of tables, e.g. --config inputs=raw/ out=corrected/")
OUT = str(config.get("out", "corrected/")).rstrip("/") or "."
CCDRIFT = config.get("ccdrift", "ccdrift")
ARGS = config.get("args", "")
THREADS = int(config.get("threads", 2))

# input extension -> output extension
TABLE_EXTENSIONS = {".csv": ".csv", ".tsv": ".tsv", ".hdf": ".hdf", ".h5r": ".hdf", ".hdf5": ".hdf5"}


def _own_output(stem):
    return stem.endswith("_undrift") or stem.endswith("_drift")


TABLES = {}
for path in sorted(Path(INPUTS).iterdir()):
    ext = path.suffix.lower()
    if not path.is_file() or ext not in TABLE_EXTENSIONS or _own_output(path.stem):
        continue
    if path.stem in TABLES:
        raise ValueError(f"drift.smk: {TABLES[path.stem]} and {path} would both be written as {path.stem}_undrift.*; rename one")
    TABLES[path.stem] = path


def corrected(stem):
    return os.path.join(OUT, stem + "_undrift" + TABLE_EXTENSIONS[TABLES[stem].suffix.lower()])


rule all:
    input:
        [corrected(stem) for stem in TABLES],
        [os.path.join(OUT, stem + "_drift.npz") for stem in TABLES],


def _inputs(wildcards):
    path = TABLES[wildcards.stem]
    files = [str(path)]
    if path.suffix.lower() == ".hdf5" and path.with_suffix(".yaml").exists():
        files.append(str(path.with_suffix(".yaml")))  # Picasso's pixel size lives in the sidecar
    return files


def _stems(ext):
    """A wildcard pattern matching exactly the tables whose result has extension `ext`."""
    stems = [re.escape(s) for s, p in TABLES.items() if TABLE_EXTENSIONS[p.suffix.lower()] == ext]
    return "|".join(stems) if stems else "(?!)"


# One rule per result format (Snakemake needs the same wildcards in every output of a rule;
# the table's extension follows from its name, so each rule owns its stems).
rule undrift_csv:
    input:
        _inputs,
    output:
        table=OUT + "/{stem}_undrift.csv",
        drift=OUT + "/{stem}_drift.npz",
    wildcard_constraints:
        stem=_stems(".csv"),
    log:
        OUT + "/logs/{stem}.log",
    params:
        format="csv",
    threads: THREADS
    # --force: Snakemake decides what runs and removes incomplete results itself.
    shell:
        "{CCDRIFT} locs {input[0]:q} --out-dir {OUT:q} --format {params.format} --force --workers {threads} {ARGS} > {log:q} 2>&1"


use rule undrift_csv as undrift_tsv with:
    output:
        table=OUT + "/{stem}_undrift.tsv",
        drift=OUT + "/{stem}_drift.npz",
    wildcard_constraints:
        stem=_stems(".tsv"),
    params:
        format="tsv",


use rule undrift_csv as undrift_hdf with:
    output:
        table=OUT + "/{stem}_undrift.hdf",
        drift=OUT + "/{stem}_drift.npz",
    wildcard_constraints:
        stem=_stems(".hdf"),
    params:
        format="hdf",


use rule undrift_csv as undrift_hdf5 with:
    output:
        table=OUT + "/{stem}_undrift.hdf5",
        sidecar=OUT + "/{stem}_undrift.yaml",
        drift=OUT + "/{stem}_drift.npz",
    wildcard_constraints:
        stem=_stems(".hdf5"),
    params:
        format="hdf5",
