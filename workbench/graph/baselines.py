"""Supervised baselines trained on the labelled points S only (the seed's comparison table).

* ``knn``: the nearest labelled neighbour (k = 1, as the seed's MNIST row, 96.40%);
* ``svm``: an RBF support-vector machine (scikit-learn ``SVC``, γ = 1/(d·Var X), C = 1);
* ``softmax``: multinomial logistic regression (scikit-learn ``LogisticRegression``, L2, C = 1).

Each predicts the classes of the unlabelled points P∖S. With one labelled point
per class the SVM and the nearest neighbour coincide up to ties; with a single
class present the classifier is constant (scikit-learn refuses to fit it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BASELINES = ("knn", "svm", "softmax")


def _model(name: str, seed: int):
    if name == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(n_neighbors=1)
    if name == "svm":
        from sklearn.svm import SVC

        return SVC(kernel="rbf", gamma="scale", C=1.0)
    if name == "softmax":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    raise ValueError(f"method must be one of {', '.join(BASELINES)}; got {name!r}")


def predict(name: str, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, seed: int = 0) -> np.ndarray:
    """Fit baseline ``name`` on (X_train, y_train) and predict X_test."""
    classes = np.unique(y_train)
    if len(classes) == 1:
        return np.full(len(X_test), classes[0])
    return _model(name, seed).fit(X_train, y_train).predict(X_test)


def predictor(name: str) -> Callable[..., np.ndarray]:
    """``predict`` bound to one baseline name (validated now)."""
    _model(name, 0)
    return lambda *a, **kw: predict(name, *a, **kw)
