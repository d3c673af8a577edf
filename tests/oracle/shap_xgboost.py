#!/usr/bin/python3
"""shap_xgboost.py - xgboost's TreeSHAP as the external oracle of sv.shap.

Converts a forest exported by sylva (f:export_json, docs/api.md format) into
xgboost's JSON model format and runs xgboost 1.7's own TreeSHAP on it:
pred_contribs (path-dependent SHAP values, last column the bias) and
pred_interactions (SHAP interaction values).

    /usr/bin/python3 tests/oracle/shap_xgboost.py FOREST.json X.csv OUTDIR

writes OUTDIR/xgb_contribs.csv (n x (p+1)) and OUTDIR/xgb_interactions.csv
(one line per row: the (p+1) x (p+1) matrix row-major, bias last). The
fixture in tests/fixtures/shap/ was produced by tests/oracle/shap_fixture.lua
followed by this script; CI only reads the CSVs.

The conversion (facts about xgboost 1.7 checked on this machine):
- xgboost's predictor assumes right child = left child + 1: nodes are
  renumbered breadth-first so that siblings are consecutive;
- xgboost goes left when x < split_condition (float32): a sylva split
  "x <= t" becomes split_condition = the next float32 above float32(t);
  the script then checks every row reaches the same leaf by comparing
  xgboost's margin with a float64 traversal of the sylva trees;
- a leaf's value is read from split_conditions: value / T, base_score 0,
  so the margin is the forest mean;
- sum_hessian = cover (what TreeSHAP uses to weight unseen branches).
"""
import csv
import json
import os
import sys

import numpy as np


def load_forest(path):
    with open(path) as fh:
        f = json.load(fh)
    if f.get("format") != "sylva-forest":
        raise SystemExit("%s: not a sylva-forest export" % path)
    return f


def next_float32_above(t):
    t32 = np.float32(t)
    return float(np.nextafter(t32, np.float32(np.inf)))


def convert_tree(t, n_trees, n_features, tree_id):
    """One sylva tree (arrays indexed by node id) -> one xgboost tree."""
    # breadth-first order: children of a node get consecutive new ids
    order = [0]
    new_id = {0: 0}
    k = 0
    while k < len(order):
        old = order[k]
        if t["left"][old] >= 0:
            for c in (t["left"][old], t["right"][old]):
                new_id[c] = len(order)
                order.append(c)
        k += 1
    n = len(order)
    left, right, parents = [-1] * n, [-1] * n, [2147483647] * n
    cond, index, hess = [0.0] * n, [0] * n, [0.0] * n
    for new, old in enumerate(order):
        hess[new] = float(t["cover"][old])
        if t["left"][old] >= 0:
            l, r = new_id[t["left"][old]], new_id[t["right"][old]]
            assert r == l + 1
            left[new], right[new] = l, r
            parents[l] = parents[r] = new
            index[new] = int(t["feature"][old])
            cond[new] = next_float32_above(t["threshold"][old])
        else:
            cond[new] = float(t["value"][old]) / n_trees
    return {
        "base_weights": [0.0] * n,
        "categories": [], "categories_nodes": [],
        "categories_segments": [], "categories_sizes": [],
        "default_left": [0] * n,
        "id": tree_id,
        "left_children": left,
        "loss_changes": [0.0] * n,
        "parents": parents,
        "right_children": right,
        "split_conditions": cond,
        "split_indices": index,
        "split_type": [0] * n,
        "sum_hessian": hess,
        "tree_param": {"num_deleted": "0", "num_feature": str(n_features),
                       "num_nodes": str(n), "size_leaf_vector": "0"},
    }


def to_xgboost_json(f):
    trees = f["trees"]
    T, p = len(trees), len(f["feature_names"])
    xtrees = [convert_tree(t, T, p, k) for k, t in enumerate(trees)]
    return {
        "learner": {
            "attributes": {},
            "feature_names": [], "feature_types": [],
            "gradient_booster": {
                "model": {
                    "gbtree_model_param": {"num_parallel_tree": "1",
                                           "num_trees": str(T),
                                           "size_leaf_vector": "0"},
                    "tree_info": [0] * T,
                    "trees": xtrees,
                },
                "name": "gbtree",
            },
            "learner_model_param": {"base_score": "0E0", "boost_from_average": "0",
                                    "num_class": "0", "num_feature": str(p),
                                    "num_target": "1"},
            "objective": {"name": "reg:squarederror",
                          "reg_loss_param": {"scale_pos_weight": "1"}},
        },
        "version": [1, 7, 4],
    }


def load_booster(forest_json_path, tmpdir):
    import xgboost as xgb
    f = load_forest(forest_json_path)
    path = os.path.join(tmpdir, "xgb_model_%d.json" % os.getpid())
    with open(path, "w") as fh:
        json.dump(to_xgboost_json(f), fh)
    b = xgb.Booster()
    try:
        b.load_model(path)
    finally:
        os.remove(path)
    return f, b


def forest_predict(f, X):
    """float64 traversal of the sylva trees: x <= threshold goes left."""
    out = np.zeros(X.shape[0])
    for t in f["trees"]:
        for i in range(X.shape[0]):
            n = 0
            while t["left"][n] >= 0:
                n = t["left"][n] if X[i, t["feature"][n]] <= t["threshold"][n] else t["right"][n]
            out[i] += t["value"][n]
    return out / len(f["trees"])


def read_X(path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    return np.array([[float(v) for v in r] for r in rows[1:]])


def main():
    import xgboost as xgb
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    forest_path, x_path, outdir = sys.argv[1:]
    f, booster = load_booster(forest_path, outdir)
    X = read_X(x_path)
    dm = xgb.DMatrix(X)
    margin = booster.predict(dm, output_margin=True)
    ref = forest_predict(f, X)
    worst = float(np.max(np.abs(margin - ref)))
    # float32 leaf values summed over T trees: a few 1e-7; a misrouted row
    # would differ by a whole leaf value / T.
    if worst > 1e-5:
        raise SystemExit("xgboost does not reproduce the forest (max diff %g)" % worst)
    contribs = booster.predict(dm, pred_contribs=True)
    inter = booster.predict(dm, pred_interactions=True)
    with open(os.path.join(outdir, "xgb_contribs.csv"), "w") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(list(f["feature_names"]) + ["bias"])
        for r in contribs:
            w.writerow(["%.9g" % v for v in r])
    with open(os.path.join(outdir, "xgb_interactions.csv"), "w") as fh:
        w = csv.writer(fh, lineterminator="\n")
        q = inter.shape[1]
        w.writerow(["v%d_%d" % (a + 1, b + 1) for a in range(q) for b in range(q)])
        for r in inter:
            w.writerow(["%.9g" % v for v in r.reshape(-1)])
    print("xgboost %s: %d rows, %d trees, margin vs forest max diff %.3g"
          % (xgb.__version__, X.shape[0], len(f["trees"]), worst))


if __name__ == "__main__":
    main()
