#!/usr/bin/python3
"""shap_xgb.py - xgboost's TreeSHAP timed on a sylva forest (bench_shap.lua).

    /usr/bin/python3 bench/shap_xgb.py FOREST.json X.csv ROWS_CONTRIBS ROWS_INTER THREADS...

Loads the forest through the converter of tests/oracle/shap_xgboost.py,
checks that xgboost reproduces the forest's predictions, then times
pred_contribs on the first ROWS_CONTRIBS rows and pred_interactions on the
first ROWS_INTER rows of X at each thread count (model loading is not
timed). Prints one line per measurement: "contribs THREADS SECONDS ROWS".
"""
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))
import shap_xgboost as conv  # noqa: E402


def main():
    import xgboost as xgb
    forest_path, x_path, nc, ni = sys.argv[1:5]
    threads = [int(t) for t in sys.argv[5:]]
    with tempfile.TemporaryDirectory() as tmp:
        f, booster = conv.load_booster(forest_path, tmp)
    X = conv.read_X(x_path)
    nc, ni = min(int(nc), X.shape[0]), min(int(ni), X.shape[0])
    check = X[: min(50, X.shape[0])]
    margin = booster.predict(xgb.DMatrix(check), output_margin=True)
    worst = float(np.max(np.abs(margin - conv.forest_predict(f, check))))
    if worst > 1e-5:
        raise SystemExit("xgboost does not reproduce the forest (max diff %g)" % worst)
    dc, di = xgb.DMatrix(X[:nc]), xgb.DMatrix(X[:ni])
    for t in threads:
        booster.set_param({"nthread": t})
        if nc > 0:
            t0 = time.perf_counter()
            booster.predict(dc, pred_contribs=True)
            print("contribs %d %.6f %d" % (t, time.perf_counter() - t0, nc), flush=True)
        if ni > 0:
            t0 = time.perf_counter()
            booster.predict(di, pred_interactions=True)
            print("interactions %d %.6f %d" % (t, time.perf_counter() - t0, ni), flush=True)


if __name__ == "__main__":
    main()
