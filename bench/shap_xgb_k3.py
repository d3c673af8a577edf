#!/usr/bin/python3
"""shap_xgb_k3.py - xgboost's TreeSHAP timed on a 3-class sylva forest
(bench_shap_k3.lua).

    /usr/bin/python3 bench/shap_xgb_k3.py FOREST.json X.csv ROWS THREADS

The forest's export (version 2, a node value is the array of K class
fractions) becomes K single-output boosters through the converter of
tests/oracle/shap_xgboost.py, booster k holding class k's fractions: the
trees xgboost's own multiclass model would walk for class k. Checks that
each reproduces the forest's class-k prediction, then times pred_contribs
of all K boosters on the first ROWS rows of X (model loading not timed).
Prints "contribs_k3 THREADS SECONDS ROWS".
"""
import copy
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "oracle"))
import shap_xgboost as conv  # noqa: E402


def main():
    import json
    import xgboost as xgb
    forest_path, x_path, rows, threads = sys.argv[1:5]
    f = conv.load_forest(forest_path)
    K = len(f["classes"])
    X = conv.read_X(x_path)
    rows = min(int(rows), X.shape[0])
    boosters = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(K):
            fk = copy.deepcopy(f)
            for t in fk["trees"]:
                t["value"] = [v[k] for v in t["value"]]
            path = os.path.join(tmp, "k%d.json" % k)
            with open(path, "w") as fh:
                json.dump(conv.to_xgboost_json(fk), fh)
            b = xgb.Booster()
            b.load_model(path)
            check = X[: min(20, X.shape[0])]
            worst = float(np.max(np.abs(b.predict(xgb.DMatrix(check), output_margin=True)
                                        - conv.forest_predict(fk, check))))
            if worst > 1e-5:
                raise SystemExit("xgboost does not reproduce class %d (max diff %g)" % (k, worst))
            b.set_param({"nthread": int(threads)})
            boosters.append(b)
    d = xgb.DMatrix(X[:rows])
    t0 = time.perf_counter()
    for b in boosters:
        b.predict(d, pred_contribs=True)
    print("contribs_k3 %s %.6f %d" % (threads, time.perf_counter() - t0, rows), flush=True)


if __name__ == "__main__":
    main()
