"""Latent Dirichlet Allocation: topics from text columns (scikit-learn's LDA over word counts).

Outputs Studio's three: the table with a ``Topic i`` column per topic (each row's topic
mixture), the topic-word table (how strongly each word belongs to each topic) and the model,
which Score Model applies to new text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from trainyard.components.base import ComponentInputError, Context, Param, Port, component, require_columns
from trainyard.components.model import TrainedModel


def topic_columns(k: int) -> list[str]:
    return [f"Topic {i + 1}" for i in range(k)]


class TopicModel(TransformerMixin, BaseEstimator):
    """Word counts of the text columns (joined), then LDA; ``predict`` is each row's main topic."""

    def __init__(
        self,
        n_topics: int = 5,
        ngrams: int = 1,
        max_words: int = 20000,
        passes: int = 10,
        doc_topic_prior: float | None = None,
        topic_word_prior: float | None = None,
        random_state: int = 0,
    ):
        self.n_topics = n_topics
        self.ngrams = ngrams
        self.max_words = max_words
        self.passes = passes
        self.doc_topic_prior = doc_topic_prior
        self.topic_word_prior = topic_word_prior
        self.random_state = random_state

    @staticmethod
    def documents(X: pd.DataFrame) -> pd.Series:
        return (
            X.fillna("").astype(str).agg(" ".join, axis=1)
            if X.shape[1] > 1
            else X.iloc[:, 0].fillna("").astype(str)
        )

    def fit(self, X: pd.DataFrame, y: Any = None) -> TopicModel:
        from sklearn.decomposition import LatentDirichletAllocation
        from sklearn.feature_extraction.text import CountVectorizer

        self.vectorizer_ = CountVectorizer(
            ngram_range=(1, self.ngrams), max_features=self.max_words, stop_words="english"
        )
        try:
            counts = self.vectorizer_.fit_transform(self.documents(X))
        except ValueError:
            raise ComponentInputError(
                "text_columns hold no words to model (empty or only stop words)"
            ) from None
        self.lda_ = LatentDirichletAllocation(
            n_components=self.n_topics,
            max_iter=self.passes,
            doc_topic_prior=self.doc_topic_prior,
            topic_word_prior=self.topic_word_prior,
            random_state=self.random_state,
        ).fit(counts)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return self.lda_.transform(self.vectorizer_.transform(self.documents(X)))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.transform(X).argmax(axis=1) + 1

    def topic_words(self) -> pd.DataFrame:
        """Each word's weight in each topic (rows: words; columns: Topic i), normalised per topic."""
        weights = self.lda_.components_ / self.lda_.components_.sum(axis=1, keepdims=True)
        table = pd.DataFrame(weights.T, columns=topic_columns(self.n_topics))
        table.insert(0, "Feature", self.vectorizer_.get_feature_names_out())
        return table


@component(
    name="latent-dirichlet-allocation",
    display_name="Latent Dirichlet Allocation",
    category="Text Analytics",
    description="Finds topics in text columns: each row's topic mixture, each topic's words, and the model.",
    inputs=[Port("dataset", "table", "a table with one or more text columns")],
    outputs=[
        Port("transformed_dataset", "table", "the table with a Topic i column per topic"),
        Port("feature_topic_matrix", "table", "each word's weight in each topic"),
        Port("lda_transformation", "model", "the fitted topic model, to apply with Score Model"),
    ],
    params=[
        Param("text_columns", "columns", description="the columns holding text"),
        Param("number_of_topics_to_model", "int", 5, "how many topics", min=1, max=1000),
        Param("n_grams", "int", 1, "longest word sequence counted as a term", min=1, max=3),
        Param("maximum_size_of_ngram_dictionary", "int", 20000, "most frequent terms kept", min=1),
        Param("number_of_passes", "int", 10, "passes over the documents", min=1),
        Param(
            "alpha",
            "float",
            None,
            "prior of the document-topic mixture (default 1/topics)",
            optional=True,
            min=0,
            min_exclusive=True,
        ),
        Param(
            "rho",
            "float",
            None,
            "prior of the topic-word mixture (default 1/topics)",
            optional=True,
            min=0,
            min_exclusive=True,
        ),
        Param("random_number_seed", "int", 0, "seed of the initial topics", min=0),
    ],
)
def latent_dirichlet_allocation(
    ctx: Context, dataset: pd.DataFrame, text_columns: list[str], **p: Any
) -> dict[str, Any]:
    require_columns(dataset, text_columns, "text_columns")
    k = p["number_of_topics_to_model"]
    model = TopicModel(
        k,
        p["n_grams"],
        p["maximum_size_of_ngram_dictionary"],
        p["number_of_passes"],
        p["alpha"],
        p["rho"],
        p["random_number_seed"],
    ).fit(dataset[text_columns])
    counts = model.vectorizer_.transform(model.documents(dataset[text_columns]))
    mixture = model.lda_.transform(counts)
    ctx.log("vocabulary_size", len(model.vectorizer_.vocabulary_))
    ctx.log("perplexity", model.lda_.perplexity(counts))
    trained = TrainedModel(
        estimator=model,
        task="topics",
        learner="latent-dirichlet-allocation",
        feature_columns=list(text_columns),
        feature_types={c: str(dataset[c].dtype) for c in text_columns},
        training_rows=len(dataset),
        params=p,
        example=dataset[text_columns].head(5),
    )
    transformed = dataset.assign(**dict(zip(topic_columns(k), mixture.T, strict=True)))
    return {
        "transformed_dataset": transformed,
        "feature_topic_matrix": model.topic_words(),
        "lda_transformation": trained,
    }
