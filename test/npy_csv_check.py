#!/usr/bin/python3
"""typenet's .npy and CSV readers against numpy, pandas and scikit-learn themselves.

    npy_csv_check.py npy PROBE    numpy.save / numpy.lib.format.write_array files
                                  read by read_npy and read_npy_labels, every
                                  dtype, byte order and format version; what
                                  write_npy writes, byte for byte numpy.save's;
                                  the refusals, on files numpy wrote
    npy_csv_check.py csv PROBE    tables pandas.DataFrame.to_csv wrote, in every
                                  dialect (separator, header, line end, quoting,
                                  byte-order mark), read by read_csv,
                                  read_csv_regression and read_csv_matrix, equal
                                  to pandas.read_csv's values; what write_csv
                                  writes, as pandas reads it; scikit-learn's
                                  bundled tables equal to its loaders

PROBE is the build's test/npy_csv_probe. Without numpy (or, for csv, pandas)
for this interpreter (Debian: apt-get install python3-numpy python3-pandas,
for /usr/bin/python3) the test reports itself skipped (exit status 77), as
meson expects; without scikit-learn only its part is skipped.
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77


def need(module, package):
    try:
        return __import__(module)
    except ImportError:
        print(f"skipped: {module} is not installed for {sys.executable} (Debian: apt-get install {package})")
        sys.exit(SKIP)


class Checks:
    def __init__(self, probe, folder):
        self.probe, self.folder = probe, folder
        self.failures, self.checked = [], 0

    def path(self, name):
        return os.path.join(self.folder, name)

    def run(self, *args):
        """(exit status, stdout, stderr) of the probe."""
        done = subprocess.run([self.probe, *map(str, args)], capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr

    def ok(self, what, condition, detail=""):
        self.checked += 1
        if not condition:
            self.failures.append(f"{what}: {detail}")

    def finish(self):
        if self.failures:
            print(f"{len(self.failures)} of {self.checked} checks failed:")
            for f in self.failures[:50]:
                print("  " + f)
            sys.exit(1)
        print(f"{self.checked} checks agree")


# --------------------------------------------------------------------- npy

def check_npy(c):
    np = need("numpy", "python3-numpy")
    from numpy.lib import format as npy_format

    rng = np.random.default_rng(7)

    def values(dtype, shape):
        """Values spanning the dtype's range, its extremes included."""
        n = int(np.prod(shape))
        if dtype.kind == "b":
            v = rng.integers(0, 2, n).astype(bool)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            v = rng.integers(info.min, info.max, n, dtype=dtype.newbyteorder("="), endpoint=True)
            if n >= 2:
                v[0], v[1] = info.min, info.max
        else:
            v = (rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)).astype(dtype)
            if n >= 4:
                v[0], v[1], v[2] = np.nan, np.inf, -0.0
        return v.reshape(shape).astype(dtype)

    codes = ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]
    for code in codes:
        for order in "<>":
            dtype = np.dtype(order + code)
            for version in [(1, 0), (2, 0), (3, 0)]:
                for shape in [(5, 3), (7,), (0, 2)]:
                    a = values(dtype, shape)
                    name = f"{code}{'be' if order == '>' else 'le'}v{version[0]}_{'x'.join(map(str, shape))}"
                    src = c.path(name + ".npy")
                    with open(src, "wb") as f:
                        npy_format.write_array(f, a, version=version)
                    for ctype, npt in [("double", np.float64), ("float", np.float32)]:
                        out = c.path(name + "_out.npy")
                        status, _, err = c.run("npy", ctype, src, out)
                        c.ok(f"{name} as {ctype}", status == 0, err.strip())
                        if status != 0:
                            continue
                        got = np.load(out)
                        expected = a.astype(npt)
                        if a.ndim == 1:  # a column
                            expected = expected.reshape(-1, 1)
                        c.ok(f"{name} as {ctype}: values", got.dtype == npt and got.shape == expected.shape
                             and np.array_equal(got, expected, equal_nan=True),
                             f"typenet {got.dtype} {got.shape}, numpy {expected.dtype} {expected.shape}")
                        # write_npy writes numpy.save's bytes.
                        buffer = io.BytesIO()
                        np.save(buffer, expected)
                        with open(out, "rb") as f:
                            c.ok(f"{name} as {ctype}: bytes", f.read() == buffer.getvalue(), "differ from numpy.save")
                    # Labels: the arrays whose values are class ids.
                    if dtype.kind in "iub" and a.size:
                        ids = np.abs(a.astype(np.int64)) % 100 if dtype.kind != "b" else a  # fits every dtype
                        ids = ids.astype(dtype)
                        for ids_shape in [(ids.size,), (ids.size, 1)]:
                            lsrc = c.path(name + "_labels.npy")
                            with open(lsrc, "wb") as f:
                                npy_format.write_array(f, ids.reshape(ids_shape), version=version)
                            lout = c.path(name + "_labels_out.npy")
                            status, _, err = c.run("labels", lsrc, lout)
                            c.ok(f"{name} labels {ids_shape}", status == 0, err.strip())
                            if status == 0:
                                got = np.load(lout)
                                c.ok(f"{name} labels {ids_shape}: values",
                                     got.dtype == np.int32 and np.array_equal(got, ids.reshape(-1).astype(np.int32)), "")

    # Refusals, on files numpy itself wrote.
    def refused(name, array, expected, allow_pickle=False, reader=("npy", "double")):
        src = c.path(name + ".npy")
        np.save(src, array, allow_pickle=allow_pickle)
        status, _, err = c.run(*reader, src, c.path(name + "_out.npy"))
        c.ok(f"refusal {name}", status == 3 and err.startswith(f"typenet: {src}: ") and expected in err,
             f"status {status}, stderr {err.strip()!r}, expected {expected!r}")

    refused("fortran", np.asfortranarray(np.arange(6.0).reshape(2, 3)), "Fortran (column-major) order")
    refused("object", np.array([1, "a", None], dtype=object), "holds an object array", allow_pickle=True)
    refused("three_d", np.zeros((2, 3, 4)), "holds a 3-dimensional array (2 x 3 x 4)")
    refused("scalar", np.float64(1.5), "holds a 0-dimensional array")
    refused("float16", np.zeros(3, np.float16), "holds float16 values")
    refused("complex", np.zeros(3, np.complex64), "holds complex numbers")
    refused("strings", np.array(["ab", "c"]), "holds strings")
    refused("structured", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), "holds a structured array")
    refused("negative_labels", np.array([0, -1], np.int8), "label 1 is -1", reader=("labels",))
    refused("float_labels", np.array([0.0, 1.0]), "holds float64 values", reader=("labels",))
    refused("float_overflow", np.array([1e39]), "beyond float's range", reader=("npy", "float"))


# --------------------------------------------------------------------- csv

def check_csv(c):
    np = need("numpy", "python3-numpy")
    pd = need("pandas", "python3-pandas")
    rng = np.random.default_rng(11)

    n = 120
    columns = {
        "wide": rng.standard_normal(n) * 10.0 ** rng.integers(-20, 20, n),  # repr: 17 digits, exponents
        "money": np.round(rng.uniform(-1000, 1000, n), 2),
        "count": rng.integers(-50, 50, n).astype(np.float64),
        "tiny": rng.uniform(0, 1, n) * 1e-300,
        "unit": rng.uniform(0, 1, n),
    }
    species = np.array(["setosa", "versicolor", "virginica", "a, b", 'say "hi"'])
    frame = pd.DataFrame(columns)
    frame.insert(2, "species", species[rng.integers(0, len(species), n)])
    frame["code"] = rng.integers(0, 4, n)
    numeric = [k for k in frame.columns if k not in ("species", "code")]

    dialects = []
    for sep in [",", ";", "\t"]:
        for header in [True, False]:
            for ending in ["\n", "\r\n"]:
                for quoting in [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]:
                    for bom in [False, True]:
                        dialects.append((sep, header, ending, quoting, bom))

    for k, (sep, header, ending, quoting, bom) in enumerate(dialects):
        name = f"table{k}"
        src = c.path(name + ".csv")
        text = frame.to_csv(sep=sep, header=header, index=False, lineterminator=ending, quoting=quoting)
        with open(src, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
            f.write(text)
        what = f"{name} (sep {sep!r}, header {header}, ending {ending!r}, quoting {quoting}, bom {bom})"
        theirs = pd.read_csv(src, sep=sep, header=0 if header else None, float_precision="round_trip",
                             encoding="utf-8-sig")
        theirs.columns = list(frame.columns)
        # read_csv: the species by name (or by position without a header).
        label = "species" if header else "#2"
        x, y = c.path(name + "_x.npy"), c.path(name + "_y.npy")
        status, out, err = c.run("csv", "double", src, x, y, f"label={label}")
        c.ok(f"{what}: read_csv", status == 0, err.strip())
        if status == 0:
            names = json.loads(out)
            expected_x = theirs.drop(columns=["species"]).to_numpy(dtype=np.float64)
            classes = sorted(set(theirs["species"]))  # sorted by code point: UTF-8's byte order here
            expected_y = np.array([classes.index(s) for s in theirs["species"]], np.int32)
            got_x = np.load(x)
            c.ok(f"{what}: features", got_x.shape == expected_x.shape and np.array_equal(got_x, expected_x),
                 f"shape {got_x.shape} vs {expected_x.shape}")
            c.ok(f"{what}: labels", np.array_equal(np.load(y), expected_y), "")
            c.ok(f"{what}: class names", names["class_names"] == classes, f"{names['class_names']} vs {classes}")
            expected_names = [k for k in frame.columns if k != "species"] if header else []
            c.ok(f"{what}: feature names", names["feature_names"] == expected_names, str(names["feature_names"]))
        # write_csv: what read_csv read, written back, as pandas reads it.
        rewritten = c.path(name + "_rewritten.csv")
        status, _, err = c.run("rewrite", "double", src, rewritten, f"label={label}")
        c.ok(f"{what}: write_csv", status == 0, err.strip())
        if status == 0:
            back = pd.read_csv(rewritten, header=0 if header else None, float_precision="round_trip")
            order = [k for k in frame.columns if k != "species"] + ["species"]
            if header:
                c.ok(f"{what}: write_csv header", list(back.columns) == order, str(list(back.columns)))
            c.ok(f"{what}: write_csv values", np.array_equal(back.iloc[:, :-1].to_numpy(np.float64),
                                                             theirs[order[:-1]].to_numpy(np.float64)), "")
            c.ok(f"{what}: write_csv labels", list(back.iloc[:, -1]) == list(theirs["species"]), "")
        # read_csv_regression on the same file: the species are not numbers.
        target = "unit" if header else f"#{list(frame.columns).index('unit')}"
        status, out, err = c.run("regression", "double", src, x, y, f"target={target}")
        c.ok(f"{what}: read_csv_regression refuses the names", status == 3 and "column 3" in err
             and "is not a number." in err, err.strip())
    # Numbers only, as read_csv_matrix: every column pandas reads as float.
    only_numbers = frame[numeric + ["code"]]
    for k, (sep, header, ending, quoting, bom) in enumerate(dialects):
        src = c.path(f"numbers{k}.csv")
        with open(src, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
            f.write(only_numbers.to_csv(sep=sep, header=header, index=False, lineterminator=ending, quoting=quoting))
        theirs = pd.read_csv(src, sep=sep, header=0 if header else None, float_precision="round_trip",
                             encoding="utf-8-sig").to_numpy(dtype=np.float64)
        out_x = c.path(f"numbers{k}_x.npy")
        status, out, err = c.run("matrix", "double", src, out_x)
        what = f"numbers{k} (sep {sep!r}, header {header}, ending {ending!r}, quoting {quoting}, bom {bom})"
        c.ok(f"{what}: read_csv_matrix", status == 0, err.strip())
        if status == 0:
            c.ok(f"{what}: values", np.array_equal(np.load(out_x), theirs), "")
            names = json.loads(out)["column_names"]
            c.ok(f"{what}: names", names == (list(only_numbers.columns) if header else []), str(names))
        # The target column by name, through read_csv_regression.
        if header:
            status, out, err = c.run("regression", "double", src, out_x, c.path("t.npy"), "target=money")
            c.ok(f"{what}: regression", status == 0, err.strip())
            if status == 0:
                j = list(only_numbers.columns).index("money")
                c.ok(f"{what}: targets", np.array_equal(np.load(c.path("t.npy"))[:, 0], theirs[:, j]), "")
                c.ok(f"{what}: regression features", np.array_equal(np.load(out_x), np.delete(theirs, j, axis=1)), "")

    # Floats: each float32's shortest text reads back as that float32.
    f32 = (rng.standard_normal((200, 4)) * 10.0 ** rng.integers(-38, 38, (200, 4))).astype(np.float32)
    src = c.path("float32.csv")
    with open(src, "w") as f:
        for row in f32:
            f.write(",".join(np.format_float_scientific(v, unique=True) if i % 2 else np.format_float_positional(v)
                             for i, v in enumerate(row)) + "\n")
    status, _, err = c.run("matrix", "float", src, c.path("float32_x.npy"))
    c.ok("float32 shortest texts", status == 0 and np.array_equal(np.load(c.path("float32_x.npy")), f32), err.strip())

    # NaN and infinities, when asked for, where pandas reads them.
    special = pd.DataFrame({"a": [1.0, np.nan, np.inf], "b": [-np.inf, 2.5, np.nan]})
    src = c.path("special.csv")
    special.to_csv(src, index=False, na_rep="nan")
    status, _, err = c.run("matrix", "double", src, c.path("special_x.npy"), "nonfinite")
    theirs = pd.read_csv(src).to_numpy(dtype=np.float64)
    c.ok("nan and inf", status == 0 and np.array_equal(np.load(c.path("special_x.npy")), theirs, equal_nan=True),
         err.strip())
    status, _, err = c.run("matrix", "double", src, c.path("special_x.npy"))
    c.ok("nan refused by default", status == 3 and "line 2, column 2 ('b'): '-inf' is not a finite number" in err, err.strip())

    # scikit-learn's bundled tables, as its loaders read them.
    try:
        from sklearn import datasets
    except ImportError:
        print("scikit-learn's part skipped: sklearn is not installed (Debian: apt-get install python3-sklearn)")
        return
    folder = os.path.join(os.path.dirname(datasets.__file__), "data")
    for file, loader in [("breast_cancer.csv", datasets.load_breast_cancer), ("iris.csv", datasets.load_iris),
                         ("wine_data.csv", datasets.load_wine)]:
        d = loader()
        x, y = c.path(file + "_x.npy"), c.path(file + "_y.npy")
        status, out, err = c.run("csv", "double", os.path.join(folder, file), x, y)
        c.ok(f"sklearn {file}", status == 0, err.strip())
        if status == 0:
            c.ok(f"sklearn {file}: data", np.array_equal(np.load(x), d.data), "")
            c.ok(f"sklearn {file}: target", np.array_equal(np.load(y), d.target), "")
            c.ok(f"sklearn {file}: target names", json.loads(out)["class_names"] == list(d.target_names), out)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("npy", "csv"):
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        c = Checks(sys.argv[2], folder)
        (check_npy if sys.argv[1] == "npy" else check_csv)(c)
        c.finish()


if __name__ == "__main__":
    main()
