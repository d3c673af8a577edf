#!/usr/bin/python3
"""multiclass_sklearn.py - the second oracle for the several-class
diagnostics: scikit-learn's roc_auc_score(multi_class="ovo") (Hand & Till's
M, macro average), roc_auc_score(multi_class="ovr", average=None) (the
one-vs-rest AUCs), confusion_matrix and recall_score on the predictions of
tests/fixtures/multiclass/pred_*.csv (written by multiclass_r.R).
Run from the repository root:  /usr/bin/python3 tests/oracle/multiclass_sklearn.py
"""
import csv

import numpy as np
from sklearn.metrics import confusion_matrix, recall_score, roc_auc_score

out = []
for name in ("gbsg", "rott", "iris"):
    with open(f"tests/fixtures/multiclass/pred_{name}.csv", newline="") as f:
        rows = list(csv.reader(f))
    labels = rows[0][1:]
    y = [r[0] for r in rows[1:]]
    P = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    # scikit-learn wants the labels sorted: reorder the columns for it and
    # key the results by the fixture's column order
    srt = sorted(range(len(labels)), key=lambda k: labels[k])
    Ps = P[:, srt]
    out.append((f"sk.{name}.ovo", roc_auc_score(y, Ps, multi_class="ovo",
                                                labels=[labels[k] for k in srt])))
    ovr = roc_auc_score(y, Ps, multi_class="ovr", labels=[labels[k] for k in srt], average=None)
    for a, k in zip(ovr, srt):
        out.append((f"sk.{name}.ovr.{k + 1}", a))
    pred = [labels[k] for k in np.argmax(P, axis=1)]
    cm = confusion_matrix(y, pred, labels=labels)
    for t in range(len(labels)):
        for p in range(len(labels)):
            out.append((f"sk.{name}.conf.{t + 1}.{p + 1}", cm[t, p]))
    rec = recall_score(y, pred, labels=labels, average=None, zero_division=0)
    for k, r in enumerate(rec):
        out.append((f"sk.{name}.recall.{k + 1}", r))

with open("tests/fixtures/multiclass/sklearn.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["key", "value"])
    for k, v in out:
        w.writerow([k, repr(float(v))])
