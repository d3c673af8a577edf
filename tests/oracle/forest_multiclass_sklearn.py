# forest_multiclass_sklearn.py - scikit-learn's RandomForestClassifier with
# K = 3 and K = 4 classes as the oracle of sv.forest's multiclass forests
# (tests/lua/test_forest_multiclass.lua). Run from the repository root:
#   /usr/bin/python3 tests/oracle/forest_multiclass_sklearn.py
# Data:
#   gbsg (tests/fixtures/data/gbsg.csv): tumour grade 1/2/3 (K = 3) from
#     age, meno, size, nodes, pgr, er, hormon;
#   digits4 (written here, tests/fixtures/data/digits4.csv): scikit-learn's
#     bundled handwritten digits (UCI optdigits test set, 8x8 images), the
#     digits 0-3 (K = 4), 64 pixel counts 0-16.
# Rows i (1-based) with i % 3 == 0 are the test set. Writes under
# tests/fixtures/forest/:
#   sklearn_<data>_multiclass_auc.csv  seed, Hand-Till AUC
#     (roc_auc_score(multi_class="ovo")) of the test predictions and
#     log loss, 200 trees, max_features sqrt, seeds 1..10
#   sklearn_<data>_multiclass_tree.csv one tree, bootstrap=False,
#     max_features=None on the training rows (gini): node, feature,
#     threshold, children, the K class fractions p1..pK, cover, impurity,
#     and whether the node's best gain is tied (brute force below)
#   handtill_gbsg.csv                  the input of tests/oracle/handtill_proc.R
import csv
import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score, log_loss

OUT = "tests/fixtures/forest/"


def gbsg():
    with open("tests/fixtures/data/gbsg.csv") as f:
        r = csv.reader(f)
        header = [h.strip('"') for h in next(r)]
        rows = [[float(v) for v in row] for row in r]
    A = np.array(rows)
    feats = ["age", "meno", "size", "nodes", "pgr", "er", "hormon"]
    X = A[:, [header.index(c) for c in feats]]
    y = A[:, header.index("grade")].astype(int)
    return X, y


def digits4():
    d = load_digits()
    keep = d.target <= 3
    X, y = d.data[keep], d.target[keep]
    with open("tests/fixtures/data/digits4.csv", "w") as f:
        f.write(",".join(["px%d" % j for j in range(64)] + ["digit"]) + "\n")
        for i in range(len(y)):
            f.write(",".join("%d" % v for v in X[i]) + ",%d\n" % y[i])
    return X, y


def gini(W):
    tot = W.sum(axis=1)
    return 1 - ((W / tot[:, None]) ** 2).sum(axis=1)


def tree_fixture(name, X, y, classes):
    test = np.arange(1, len(y) + 1) % 3 == 0
    Xtr, ytr = X[~test], y[~test]
    K = len(classes)
    yi = np.searchsorted(classes, ytr)
    m = RandomForestClassifier(n_estimators=1, bootstrap=False, max_features=None,
                               random_state=0)
    m.fit(Xtr, ytr)
    est = m.estimators_[0]
    t = est.tree_
    X32 = Xtr.astype(np.float32).astype(np.float64)
    paths = est.decision_path(Xtr.astype(np.float32)).tocsc()
    onehot = np.eye(K)[yi]
    tie = np.zeros(t.node_count, dtype=int)
    for node in range(t.node_count):
        if t.children_left[node] == -1:
            continue
        rows_at = paths[:, node].nonzero()[0]
        cands = []
        for j in range(X.shape[1]):
            order = np.argsort(X32[rows_at, j], kind="stable")
            xs = X32[rows_at, j][order]
            oh = onehot[rows_at][order]
            cl = np.cumsum(oh, axis=0)[:-1]
            cr = oh.sum(axis=0)[None, :] - cl
            s = cl.sum(axis=1) * gini(cl) + cr.sum(axis=1) * gini(cr)
            valid = xs[1:] > xs[:-1]
            cands.extend(s[valid].tolist())
        cands = np.array(cands)
        best = cands.min()
        tie[node] = int(np.sum(cands <= best + 1e-9 * max(1.0, abs(best))) > 1)
    with open(OUT + name, "w") as f:
        f.write("node,feature,threshold,left,right,%s,cover,impurity,tie\n"
                % ",".join("p%d" % (k + 1) for k in range(K)))
        for k in range(t.node_count):
            v = t.value[k][0]
            v = v / v.sum()
            leaf = t.children_left[k] == -1
            f.write("%d,%d,%.17g,%d,%d,%s,%.17g,%.17g,%d\n" % (
                k, -1 if leaf else t.feature[k], 0.0 if leaf else t.threshold[k],
                t.children_left[k], t.children_right[k], ",".join("%.17g" % x for x in v),
                t.weighted_n_node_samples[k], t.impurity[k], tie[k]))
    print(name, "nodes", t.node_count, "tied", tie.sum())


def auc_fixture(name, X, y):
    test = np.arange(1, len(y) + 1) % 3 == 0
    Xtr, ytr, Xte, yte = X[~test], y[~test], X[test], y[test]
    with open(OUT + name, "w") as f:
        f.write("seed,auc,logloss\n")
        for seed in range(1, 11):
            m = RandomForestClassifier(n_estimators=200, max_features="sqrt",
                                       random_state=seed, n_jobs=2)
            m.fit(Xtr, ytr)
            P = m.predict_proba(Xte)
            f.write("%d,%.17g,%.17g\n" % (seed, roc_auc_score(yte, P, multi_class="ovo"),
                                           log_loss(yte, P)))
    print(name, "done")


def handtill_input(X, y):
    # P of the gbsg test rows, rounded to 2 decimals (ties), for pROC
    test = np.arange(1, len(y) + 1) % 3 == 0
    m = RandomForestClassifier(n_estimators=200, max_features="sqrt", random_state=1)
    m.fit(X[~test], y[~test])
    P = np.round(m.predict_proba(X[test]), 2)
    with open(OUT + "handtill_gbsg.csv", "w") as f:
        f.write("grade,p1,p2,p3\n")
        for yi, row in zip(y[test], P):
            f.write("%d,%.2f,%.2f,%.2f\n" % (yi, row[0], row[1], row[2]))


handtill_input(*gbsg())
for nm, (X, y) in {"gbsg": gbsg(), "digits4": digits4()}.items():
    classes = np.unique(y)
    tree_fixture("sklearn_%s_multiclass_tree.csv" % nm, X, y, classes)
    auc_fixture("sklearn_%s_multiclass_auc.csv" % nm, X, y)
print("scikit-learn", sklearn.__version__)
