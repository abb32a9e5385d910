"""Grouping short texts by similarity: TF-IDF vectors and average-linkage agglomerative clustering.

The clustering itself is scipy's (`scipy.cluster.hierarchy`), run on cosine
distances between L2-normalised TF-IDF vectors. The terms come from the
knowledge-base analysis, so stems and thesaurus concepts count, and questions
about one concept in Dutch and French can land in one group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.spatial.distance import squareform


@dataclass
class TermMatrix:
    """Rows are documents, columns are `terms`; every non-empty row has unit length."""

    matrix: csr_matrix
    terms: list[str]


def tfidf(documents: list[dict[str, float]]) -> TermMatrix:
    """Weight term frequencies by smoothed idf, log(1 + n / (1 + df)) + 1, and L2-normalise each row."""
    vocabulary: dict[str, int] = {}
    rows, columns, values = [], [], []
    for row, document in enumerate(documents):
        for term, frequency in document.items():
            column = vocabulary.setdefault(term, len(vocabulary))
            rows.append(row)
            columns.append(column)
            values.append(float(frequency))
    shape = (len(documents), len(vocabulary))
    counts = csr_matrix((values, (rows, columns)), shape=shape, dtype=np.float64)

    document_frequency = np.bincount(np.asarray(columns, dtype=np.int64), minlength=len(vocabulary))
    idf = np.log(1.0 + len(documents) / (1.0 + document_frequency)) + 1.0
    weighted = counts.multiply(idf.reshape(1, -1)).tocsr()

    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    normalised = csr_matrix(weighted.multiply(1.0 / norms.reshape(-1, 1)))
    terms = [""] * len(vocabulary)
    for term, column in vocabulary.items():
        terms[column] = term
    return TermMatrix(normalised, terms)


def average_linkage(matrix: csr_matrix, max_distance: float) -> np.ndarray:
    """Return a group label per row: rows join while the mean cosine distance between groups stays below `max_distance`.

    Needs memory for n * (n - 1) / 2 distances, so callers bound n.
    """
    count = matrix.shape[0]
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    if count == 1:
        return np.ones(1, dtype=np.int64)
    similarity = (matrix @ matrix.T).toarray()
    distances = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    return fcluster(tree, t=max_distance, criterion="distance")


def centroid(matrix: csr_matrix, rows: list[int], weights: list[float]) -> np.ndarray:
    """Return the weighted mean of `rows`, normalised to unit length."""
    dense = np.asarray(matrix[rows].toarray())
    mean = (dense * np.asarray(weights, dtype=float).reshape(-1, 1)).sum(axis=0)
    norm = math.sqrt(float(mean @ mean)) or 1.0
    return mean / norm
