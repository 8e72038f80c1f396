"""Model trees: the fine-tunes, merges and quantisations of one base model, as the Hidden Gems paper searches them.

A tree is a family plus a canonical size, named like DESIGN's ``mistral-7b``, ``llama-2-13b``, ``qwen1.5-7b``,
``mixtral-8x7b``. What separates the trees of the shipped matrices (``../shared/data/README.md``): architecture and
size alone separate Mistral-7B, but Llama-1, Llama-2, Llama-3, Yi and SOLAR all use ``LlamaForCausalLM``, so the
family has to come from names and lineage. The evidence, in order:

1. the catalog's ``family`` (`index.families.infer_family`: versioned name tokens, architecture, base model);
2. where the catalog has none, name habits of the v1 leaderboard era that `infer_family` does not read
   (``-L2-``, ``Platypus2``, ``Vicuna-v1.5``, ``NeuralLLaMa-3``, ``zephyr-7b`` …);
3. ``LlamaForCausalLM`` with a parameter count that only one base model has (8.03B is Llama-3-8B, 34.39B Yi-34B);
4. the family of the base model (lineage), followed up to three hops through the catalog.

The size is the catalog's ``params_b`` (else the base model's, else a size token in the name), mapped onto the
family's canonical sizes by windows that absorb the leaderboard's rounding (Llama-2-7B is listed as 6, 6.74 or 7).
A model with no family or no size after all that is *unplaced*: it stays out of every ``auto`` tree and is counted.
Nothing is guessed: an unversioned ``LlamaForCausalLM`` 13B fine-tune may be Llama-1 or Llama-2, so it is unplaced.

Example:
    >>> from index.catalog import Catalog
    >>> trees = build_trees(load_responses("gsm8k").model_ids, Catalog.load(), mode="auto")
    >>> len(trees["mistral-7b"]) > 1000
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from index.catalog import Catalog

__all__ = ["TreeMode_T", "TreeReport", "ALL_TREE", "build_trees", "place_models", "tree_report", "canonical_size"]

TreeMode_T = Literal["auto", "none"]
#: the single tree of ``mode="none"``.
ALL_TREE = "all"

# Canonical sizes ------------------------------------------------------------------------------------------------

#: family → (label, lowest, highest params_b in billions). The windows are wide below the true count because the v1
#: leaderboard floors or rounds sizes (Llama-2-13B appears as 12 and 13, Phi-2's 2.78B as 2, Gemma-7B's 8.54B as 8).
_SIZES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "llama": (("7b", 6.0, 7.5), ("13b", 12.0, 14.0), ("33b", 30.0, 33.6), ("65b", 60.0, 66.0)),
    "llama-2": (("7b", 6.0, 7.5), ("13b", 12.0, 14.0), ("34b", 33.0, 35.0), ("70b", 68.0, 70.5)),
    "llama-3": (("8b", 7.5, 8.5), ("70b", 68.0, 71.0)),
    "llama-3.1": (("8b", 7.5, 8.5), ("70b", 68.0, 71.0)),
    "mistral": (("7b", 6.9, 7.6), ("12b", 11.5, 12.6), ("22b", 21.5, 22.6), ("24b", 23.5, 24.6)),
    "mixtral": (("8x7b", 46.0, 47.0), ("8x22b", 140.0, 141.5)),
    "yi": (("6b", 6.0, 6.2), ("9b", 8.8, 9.0), ("34b", 34.0, 34.5)),
    "solar": (("10.7b", 10.0, 10.8),),
    "qwen": (("1.8b", 1.8, 1.9), ("7b", 7.0, 7.8), ("14b", 14.0, 14.5), ("72b", 72.0, 72.5)),
    "qwen1.5": (("0.5b", 0.45, 0.65), ("1.8b", 1.8, 1.9), ("4b", 3.9, 4.0), ("7b", 7.0, 7.8), ("14b", 14.0, 14.5),
                ("32b", 32.0, 32.6), ("72b", 72.0, 72.5), ("110b", 110.0, 111.5)),
    "qwen2": (("0.5b", 0.45, 0.65), ("1.5b", 1.5, 1.6), ("7b", 7.0, 7.7), ("57b", 57.0, 57.5), ("72b", 72.0, 72.8)),
    "gemma": (("2b", 2.0, 2.6), ("7b", 7.0, 8.6)),
    "gemma-2": (("2b", 2.0, 2.7), ("9b", 9.0, 9.3), ("27b", 27.0, 27.3)),
    "phi-2": (("2.7b", 2.0, 2.9),),
    "phi-3": (("3.8b", 3.7, 4.0), ("7b", 7.0, 7.5), ("14b", 13.9, 14.1)),
    "falcon": (("7b", 7.0, 7.3), ("40b", 40.0, 42.0), ("180b", 178.0, 180.0)),
    "tinyllama": (("1.1b", 1.0, 1.2),),
}

# Extra evidence (only where the catalog has no family) ----------------------------------------------------------

_B = r"(?<![a-z0-9])"
#: (pattern on the lower-cased name, family, the only sizes it is trusted at or None for any).
_NAME_HABITS: tuple[tuple[re.Pattern, str, tuple[str, ...] | None], ...] = tuple(
    (re.compile(p), fam, sizes) for p, fam, sizes in (
        (_B + r"l3(?![a-z0-9])|llama[-_ ]?3(?![._]?\d)", "llama-3", ("8b", "70b")),  # "-L3-8B", "NeuralLLaMa-3"
        (_B + r"l2(?![a-z0-9])|llama[-_ ]?2(?![._]?\d)", "llama-2", None),  # "MythoMax-L2-13b", "Nous-Hermes-Llama2"
        (r"platypus[-_]?2", "llama-2", None),  # Platypus2 and its merges were trained on Llama 2
        (r"vicuna.*v1[._]5", "llama-2", None),  # Vicuna v1.5 is Llama 2 (v1.1 / v1.3 are Llama 1)
        (r"tulu[-_]?2", "llama-2", None),
        (r"solar", "solar", None),  # "KoSOLAR-10.7B" hides the token inside a word
        (r"zephyr", "mistral", ("7b",)),  # zephyr-7b-alpha/beta are Mistral 7B (zephyr-3b is StableLM: size check)
        (r"openhermes[-_]?2", "mistral", ("7b",)),
        (r"openchat[-_]?3[._]5", "mistral", ("7b",)),
        (r"neural[-_]?chat[-_]7b[-_]v3", "mistral", ("7b",)),
    )
)

#: LlamaForCausalLM parameter counts (two decimals, as the catalog keeps exact counts) that one base model owns.
_LLAMA_ARCH_SIGNATURES: dict[float, str] = {
    8.03: "llama-3", 70.55: "llama-3", 68.98: "llama-2", 34.39: "yi", 6.06: "yi", 8.83: "yi", 10.73: "solar",
}

#: a size token in a name: "7b", "13B", "1.1b", "8x7b" (MoE), "0.5b"; not preceded by a letter ("v2b").
_SIZE_TOKEN = re.compile(r"(?<![a-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)b(?![a-z0-9])")


# Records --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeReport:
    """How one question pool's models split into trees.

    Attributes:
        benchmark (`str`): the pool (``"gsm8k"``, ``"combined"``).
        n_models (`int`): models in the matrix.
        sizes (`dict[str, int]`): tree name → number of models, largest first (every tree, however small).
        unplaced (`int`): models in the catalog that no tree takes (family or size unknown).
        not_in_catalog (`int`): models the catalog does not know (also in no tree).
    """

    benchmark: str
    n_models: int
    sizes: dict[str, int]
    unplaced: int
    not_in_catalog: int

    def trees_at_least(self, min_models: int) -> dict[str, int]:
        """The trees with at least `min_models` models."""
        return {t: n for t, n in self.sizes.items() if n >= min_models}

    def to_dict(self) -> dict:
        return {"benchmark": self.benchmark, "n_models": self.n_models, "sizes": dict(self.sizes),
                "unplaced": self.unplaced, "not_in_catalog": self.not_in_catalog}


# Placement ------------------------------------------------------------------------------------------------------


def canonical_size(family: str, params_b: float) -> str:
    """The size label of a tree: the family's canonical size whose window holds `params_b`, else a rounded label.

    Args:
        family: the base family (``"llama-2"``).
        params_b: parameters in billions.

    Returns:
        ``"13b"``, ``"8x7b"``, or for sizes outside every window ``"10.7b"`` / ``"21b"`` / ``"0.12b"`` (one
            decimal below 20B, two below 1B).

    Example:
        >>> canonical_size("llama-2", 6.74), canonical_size("mistral", 10.7)
        ('7b', '10.7b')
    """
    for label, low, high in _SIZES.get(family, ()):
        if low <= params_b <= high:
            return label
    if params_b >= 20:
        return f"{round(params_b)}b"
    digits = 1 if params_b >= 1 else 2  # 10.7b (a depth-upscaled 7B) and 11b are different trees
    return f"{round(params_b, digits):g}b"


def _name_size(name: str) -> float | None:
    """Parameters in billions from a size token in the name (``8x7b`` → 46.7, the Mixtral-style MoE total)."""
    match = _SIZE_TOKEN.search(name)
    if not match:
        return None
    experts, size = match.group(1), float(match.group(2))
    if experts:  # only the 8x7B shape is common enough to know its total
        return 46.7 if (experts, size) == ("8", 7.0) else None
    return size if 0.05 <= size <= 1000 else None


class _Placer:
    """Looks up catalog facts once and places models (family, size)."""

    def __init__(self, catalog: Catalog):
        frame = catalog.frame
        self._facts = {
            mid.lower(): (fam, arch, params, base)
            for mid, fam, arch, params, base in zip(
                frame["id"], frame["family"], frame["architecture"], frame["params_b"], frame["base_model"]
            )
        }

    def known(self, model_id: str) -> bool:
        return model_id.lower() in self._facts

    def place(self, model_id: str) -> tuple[str, str] | None:
        """``(family, size label)`` of a catalog model, or `None` when the evidence does not decide."""
        family, params = self._family(model_id), self._params(model_id)
        if family is None or params is None:
            return None
        size = canonical_size(family, params)
        habit = self._habit(model_id)
        if habit is not None and habit[0] == family and habit[1] is not None and size not in habit[1]:
            return None  # a name habit trusted only at some sizes ("zephyr" at 3B is StableLM)
        return family, size

    def _family(self, model_id: str, hops: int = 3) -> str | None:
        fam, arch, params, base = self._facts[model_id.lower()]
        if _known(fam):
            return fam
        habit = self._habit(model_id)
        if habit is not None:
            return habit[0]
        if arch == "LlamaForCausalLM" and _known(params):
            signature = _LLAMA_ARCH_SIGNATURES.get(round(float(params), 2))
            if signature:
                return signature
        if hops and _known(base) and base.lower() in self._facts and base.lower() != model_id.lower():
            return self._family(base, hops - 1)
        return None

    def _habit(self, model_id: str) -> tuple[str, tuple[str, ...] | None] | None:
        if _known(self._facts[model_id.lower()][0]):
            return None
        name = model_id.rsplit("/", 1)[-1].lower()
        for pattern, family, sizes in _NAME_HABITS:
            if pattern.search(name):
                return family, sizes
        return None

    def _params(self, model_id: str) -> float | None:
        _, _, params, base = self._facts[model_id.lower()]
        if _known(params):
            return float(params)
        # A fine-tune keeps its base's size; quantised repos report packed sizes, so the base is the better source.
        if _known(base) and base.lower() in self._facts:
            base_params = self._facts[base.lower()][2]
            if _known(base_params):
                return float(base_params)
        return _name_size(model_id.rsplit("/", 1)[-1].lower())


def _known(value) -> bool:
    if value is None:
        return False
    try:
        return not math.isnan(value)
    except TypeError:
        return value is not None and value == value  # pd.NA compares to NA, not True


def place_models(model_ids: Iterable[str], catalog: Catalog) -> dict[str, str | None]:
    """The tree of each model (``"mistral-7b"``), `None` when unplaced or unknown to the catalog.

    Args:
        model_ids: Hugging Face ids (case-insensitive lookup).
        catalog: the catalog whose family / size / architecture / lineage facts decide.

    Returns:
        ``{model_id: tree name or None}`` in input order.
    """
    placer = _Placer(catalog)
    out: dict[str, str | None] = {}
    for model_id in model_ids:
        placed = placer.place(model_id) if placer.known(model_id) else None
        out[model_id] = None if placed is None else f"{placed[0]}-{placed[1]}"
    return out


def build_trees(
    model_ids: Sequence[str], catalog: Catalog | None, *, mode: TreeMode_T = "auto"
) -> dict[str, tuple[str, ...]]:
    """Group models into trees by family and canonical size.

    Args:
        model_ids: the matrix's model ids.
        catalog: the catalog (unused, may be `None`, with ``mode="none"``).
        mode: ``"auto"`` groups by family and size and leaves unplaced models out; ``"none"`` puts every model in
            one tree named ``"all"``.

    Returns:
        Tree name → model ids (input order), largest tree first.

    Raises:
        ValueError: unknown `mode`, or ``"auto"`` without a catalog.

    Example:
        >>> build_trees(["a/x", "b/y"], None, mode="none")
        {'all': ('a/x', 'b/y')}
    """
    if mode == "none":
        return {ALL_TREE: tuple(model_ids)}
    if mode != "auto":
        raise ValueError(f"Unknown tree mode {mode!r}; expected one of: 'auto', 'none'.")
    if catalog is None:
        raise ValueError("mode='auto' needs the catalog to place models; pass one or use mode='none'.")
    groups: dict[str, list[str]] = {}
    for model_id, tree in place_models(model_ids, catalog).items():
        if tree is not None:
            groups.setdefault(tree, []).append(model_id)
    return {t: tuple(ms) for t, ms in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))}


def tree_report(benchmark: str, model_ids: Sequence[str], catalog: Catalog | None, *,
                mode: TreeMode_T = "auto") -> TreeReport:
    """Tree sizes of one pool, with the count of models no tree takes.

    Args:
        benchmark: the pool's name, for the record.
        model_ids: the matrix's model ids.
        catalog: the catalog (may be `None` with ``mode="none"``).
        mode: as in `build_trees`.

    Returns:
        A `TreeReport`.
    """
    trees = build_trees(model_ids, catalog, mode=mode)
    in_catalog = len(model_ids) if catalog is None else sum(m in catalog for m in model_ids)
    placed = sum(len(ms) for ms in trees.values())
    not_in_catalog = 0 if mode == "none" else len(model_ids) - in_catalog
    return TreeReport(benchmark, len(model_ids), {t: len(ms) for t, ms in trees.items()},
                      unplaced=len(model_ids) - placed - not_in_catalog, not_in_catalog=not_in_catalog)
