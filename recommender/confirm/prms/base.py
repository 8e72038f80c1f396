"""The PRM interface: a process reward model scores every step of every candidate solution in [0, 1]."""

from __future__ import annotations

from collections.abc import Sequence


class PRM:
    """Base class of process reward models (search-and-learn ``models/reward_models.py``: one scoring method,
    one subclass per model).

    Subclasses implement `score`; `score_batch` (what the strategies call, one call per search step) loops over
    questions unless a subclass batches across them.

    Attributes:
        name (`str`): the ``--prm`` spelling.
    """

    name: str = "prm"

    def score(self, question: str, steps: Sequence[Sequence[str]]) -> list[list[float]]:
        """Step scores for candidate solutions of one question.

        Args:
            question: the question text (`Question.text`).
            steps: per candidate, its steps (paragraphs, stripped) in order.

        Returns:
            Per candidate, per step, a score in [0, 1] (1 = the step is correct).
        """
        raise NotImplementedError

    def score_batch(self, items: Sequence[tuple[str, Sequence[Sequence[str]]]]) -> list[list[list[float]]]:
        """`score` for several questions at once: ``[(question, steps), ...]`` → one result per item."""
        return [self.score(question, steps) for question, steps in items]

    def close(self) -> None:
        """Release the PRM's model, if it holds one."""
