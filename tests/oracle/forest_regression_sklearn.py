# forest_regression_sklearn.py - scikit-learn's RandomForestRegressor as the
# oracle of sv.forest.regress (tests/lua/test_forest_regress.lua). Run from
# the repository root:
#   /usr/bin/python3 tests/oracle/forest_regression_sklearn.py
# Data:
#   diabetes (written here, tests/fixtures/data/diabetes.csv): scikit-learn's
#     bundled diabetes data (Efron et al. 2004), unscaled
#     (load_diabetes(scaled=False)): 442 patients, 10 baseline variables,
#     disease progression after one year;
#   gbsg (tests/fixtures/data/gbsg.csv): number of positive nodes from age,
#     meno, size, grade, pgr, er, hormon.
# Rows i (1-based) with i % 3 == 0 are the test set. Writes under
# tests/fixtures/forest/:
#   sklearn_<data>_regress_r2.csv    seed, test R^2 of 200 trees with the
#                                    defaults (max_features = 1.0), seeds 1..10
#   sklearn_<data>_regress_tree.csv  one tree, bootstrap=False,
#                                    max_features=None, max_depth=6 on the
#                                    training rows: node, feature, threshold,
#                                    children, value, cover, impurity, and
#                                    whether the node's best gain is tied
import csv
import numpy as np
import sklearn
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import r2_score

OUT = "tests/fixtures/forest/"


def diabetes():
    d = load_diabetes(scaled=False)
    names = [n.replace("-", "_") for n in d.feature_names]
    with open("tests/fixtures/data/diabetes.csv", "w") as f:
        f.write(",".join(names + ["progression"]) + "\n")
        for i in range(len(d.target)):
            f.write(",".join("%.17g" % v for v in d.data[i]) + ",%.17g\n" % d.target[i])
    return d.data, d.target


def gbsg():
    with open("tests/fixtures/data/gbsg.csv") as f:
        r = csv.reader(f)
        header = [h.strip('"') for h in next(r)]
        rows = [[float(v) for v in row] for row in r]
    A = np.array(rows)
    feats = ["age", "meno", "size", "grade", "pgr", "er", "hormon"]
    return A[:, [header.index(c) for c in feats]], A[:, header.index("nodes")]


def tree_fixture(name, X, y):
    test = np.arange(1, len(y) + 1) % 3 == 0
    Xtr, ytr = X[~test], y[~test]
    m = RandomForestRegressor(n_estimators=1, bootstrap=False, max_features=None,
                              max_depth=6, random_state=0)
    m.fit(Xtr, ytr)
    est = m.estimators_[0]
    t = est.tree_
    X32 = Xtr.astype(np.float32).astype(np.float64)
    paths = est.decision_path(Xtr.astype(np.float32)).tocsc()
    tie = np.zeros(t.node_count, dtype=int)
    for node in range(t.node_count):
        if t.children_left[node] == -1:
            continue
        rows_at = paths[:, node].nonzero()[0]
        cands = []
        for j in range(X.shape[1]):
            order = np.argsort(X32[rows_at, j], kind="stable")
            xs = X32[rows_at, j][order]
            ys = ytr[rows_at][order]
            n = len(ys)
            cl = np.cumsum(ys)[:-1]
            nl = np.arange(1, n)
            proxy = cl ** 2 / nl + (ys.sum() - cl) ** 2 / (n - nl)
            valid = xs[1:] > xs[:-1]
            cands.extend(proxy[valid].tolist())
        cands = np.array(cands)
        best = cands.max()
        tie[node] = int(np.sum(cands >= best - 1e-9 * max(1.0, abs(best))) > 1)
    with open(OUT + name, "w") as f:
        f.write("node,feature,threshold,left,right,value,cover,impurity,tie\n")
        for k in range(t.node_count):
            leaf = t.children_left[k] == -1
            f.write("%d,%d,%.17g,%d,%d,%.17g,%.17g,%.17g,%d\n" % (
                k, -1 if leaf else t.feature[k], 0.0 if leaf else t.threshold[k],
                t.children_left[k], t.children_right[k], t.value[k][0][0],
                t.weighted_n_node_samples[k], t.impurity[k], tie[k]))
    print(name, "nodes", t.node_count, "tied", tie.sum())


def r2_fixture(name, X, y):
    test = np.arange(1, len(y) + 1) % 3 == 0
    with open(OUT + name, "w") as f:
        f.write("seed,r2\n")
        for seed in range(1, 11):
            m = RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=2)
            m.fit(X[~test], y[~test])
            f.write("%d,%.17g\n" % (seed, r2_score(y[test], m.predict(X[test]))))
    print(name, "done")


for nm, (X, y) in {"diabetes": diabetes(), "gbsg": gbsg()}.items():
    tree_fixture("sklearn_%s_regress_tree.csv" % nm, X, y)
    r2_fixture("sklearn_%s_regress_r2.csv" % nm, X, y)
print("scikit-learn", sklearn.__version__)
